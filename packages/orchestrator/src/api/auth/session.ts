import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { ProblemError } from '../problem.js';
import { problemResponses } from '../schemas.js';
import type { TokenAuthenticator } from './authenticator.js';

export const SESSION_COOKIE = 'myx_session';
export const CSRF_COOKIE = 'myx_csrf';
export const CSRF_HEADER = 'x-csrf-token';

export function readCookies(request: FastifyRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    try {
      out[part.slice(0, eq).trim()] = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      // A cookie that is not URL-encoded is not one of ours.
    }
  }
  return out;
}

/**
 * A state-changing request authenticated by the session cookie must echo the CSRF cookie in the
 * X-CSRF-Token header (double submit): another site can make the browser send the cookie, never
 * read it. SameSite=Strict already keeps the cookie off cross-site requests; this is the second lock.
 */
export function checkCsrf(request: FastifyRequest, cookies: Record<string, string>): void {
  if (request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS') return;
  const header = request.headers[CSRF_HEADER];
  const expected = cookies[CSRF_COOKIE];
  const given = typeof header === 'string' ? Buffer.from(header) : Buffer.alloc(0);
  if (!expected || given.length !== Buffer.byteLength(expected) || !timingSafeEqual(given, Buffer.from(expected))) {
    throw new ProblemError('forbidden', `a request signed in by cookie must send the ${CSRF_COOKIE} cookie's value in ${CSRF_HEADER}`);
  }
}

function cookie(name: string, value: string, options: { httpOnly: boolean; secure: boolean; maxAge: number }): string {
  return [
    `${name}=${encodeURIComponent(value)}`,
    'Path=/',
    'SameSite=Strict',
    `Max-Age=${options.maxAge}`,
    ...(options.httpOnly ? ['HttpOnly'] : []),
    ...(options.secure ? ['Secure'] : []),
  ].join('; ');
}

/** Sets the session and CSRF cookies for `token`; returns the CSRF value. */
export function startSession(reply: FastifyReply, request: FastifyRequest, token: string, maxAge: number): string {
  const secure = request.protocol === 'https';
  const csrf = randomBytes(24).toString('base64url');
  reply.header('set-cookie', [
    cookie(SESSION_COOKIE, token, { httpOnly: true, secure, maxAge }),
    cookie(CSRF_COOKIE, csrf, { httpOnly: false, secure, maxAge }),
  ]);
  return csrf;
}

/**
 * Dashboard sign-in: POST /api/session with a token sets it as an HttpOnly, SameSite=Strict cookie
 * (Secure over TLS) plus a readable CSRF cookie; DELETE signs out. The session is the token, so
 * revoking the token ends every session made with it.
 */
export async function sessionRoutes(app: FastifyInstance, authenticator: TokenAuthenticator, oidc = false): Promise<void> {
  app.get(
    '/session',
    {
      schema: {
        summary: 'How the dashboard can sign in: with a token, and through an OpenID provider when one is configured',
        tags: ['security'],
        response: { 200: Type.Object({ token: Type.Boolean(), oidc: Type.Boolean(), login_url: Type.Optional(Type.String()) }) },
      },
    },
    async () => ({ token: true, oidc, ...(oidc ? { login_url: '/api/oidc/login' } : {}) }),
  );

  app.post(
    '/session',
    {
      schema: {
        summary: 'Sign the dashboard in with an API token (sets an HttpOnly session cookie and a CSRF cookie)',
        tags: ['security'],
        body: Type.Object({ token: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }),
        response: {
          200: Type.Object({ org: Type.String(), scopes: Type.Array(Type.String()), csrf: Type.String() }),
          ...problemResponses(400, 401),
        },
      },
    },
    async (request, reply) => {
      const { token } = request.body as { token: string };
      const principal = await authenticator.check(token);
      if (typeof principal === 'string') throw new ProblemError('unauthenticated', `cannot sign in: the token is ${principal}`);
      const csrf = startSession(reply, request, token, 12 * 3600);
      return { org: principal.orgId, scopes: [...principal.scopes], csrf };
    },
  );

  app.delete(
    '/session',
    { schema: { summary: 'Sign the dashboard out', tags: ['security'], response: { 204: { type: 'null', description: 'signed out' } } } },
    async (request, reply) => {
      const secure = request.protocol === 'https';
      reply.header('set-cookie', [
        cookie(SESSION_COOKIE, '', { httpOnly: true, secure, maxAge: 0 }),
        cookie(CSRF_COOKIE, '', { httpOnly: false, secure, maxAge: 0 }),
      ]);
      return reply.code(204).send();
    },
  );
}

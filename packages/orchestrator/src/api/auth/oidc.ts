import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as client from 'openid-client';
import { ROLE_SCOPES, type SecurityStore } from '../../store/security.js';
import { ProblemError } from '../problem.js';
import { createToken } from './routes.js';
import { readCookies, startSession } from './session.js';

/** `MYRMEX_OIDC_*`: an OpenID provider the dashboard signs in with (authorization code + PKCE). */
export interface OidcOptions {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** This queen's `/api/oidc/callback` as the provider knows it. */
  readonly redirectUrl: string;
  /** Which ID token claim names the Myrmex user (default `preferred_username`, then `sub`). */
  readonly userClaim?: string;
  /** Plain-HTTP issuers (a local provider in tests); never in production. */
  readonly allowInsecure?: boolean;
}

export function oidcFromEnvironment(env: NodeJS.ProcessEnv = process.env): OidcOptions | undefined {
  const { MYRMEX_OIDC_ISSUER: issuer, MYRMEX_OIDC_CLIENT_ID: clientId, MYRMEX_OIDC_CLIENT_SECRET: clientSecret } = env;
  const redirectUrl = env.MYRMEX_OIDC_REDIRECT_URL;
  if (!issuer) return undefined;
  if (!clientId || !clientSecret || !redirectUrl) {
    throw new Error('MYRMEX_OIDC_ISSUER needs MYRMEX_OIDC_CLIENT_ID, MYRMEX_OIDC_CLIENT_SECRET and MYRMEX_OIDC_REDIRECT_URL');
  }
  return { issuer, clientId, clientSecret, redirectUrl, ...(env.MYRMEX_OIDC_USER_CLAIM ? { userClaim: env.MYRMEX_OIDC_USER_CLAIM } : {}) };
}

const FLOW_COOKIE = 'myx_oidc';
const SESSION_SECONDS = 12 * 3600;

/**
 * GET /api/oidc/login sends the browser to the provider; GET /api/oidc/callback checks state, nonce
 * and the PKCE verifier, maps the ID token's user to a member, and signs the dashboard in with a
 * token limited to the member's role that expires with the session. Unknown users are refused.
 */
export async function oidcRoutes(app: FastifyInstance, security: SecurityStore, pepper: Buffer, options: OidcOptions): Promise<void> {
  let configuration: Promise<client.Configuration> | undefined;
  const config = () => {
    configuration ??= client
      .discovery(
        new URL(options.issuer),
        options.clientId,
        options.clientSecret,
        undefined,
        options.allowInsecure ? { execute: [client.allowInsecureRequests] } : undefined,
      )
      .catch((error: unknown) => {
        configuration = undefined;
        throw error;
      });
    return configuration;
  };
  const flowCookie = (value: string, maxAge: number, request: FastifyRequest) =>
    // Lax, not Strict: the provider's redirect back is a cross-site top-level navigation that must carry it.
    `${FLOW_COOKIE}=${value}; Path=/api/oidc; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${request.protocol === 'https' ? '; Secure' : ''}`;

  app.get('/oidc/login', { schema: { hide: true }, config: { auth: 'self' } }, async (request, reply: FastifyReply) => {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(await config(), {
      redirect_uri: options.redirectUrl,
      scope: 'openid profile email',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    reply.header('set-cookie', flowCookie([verifier, state, nonce].join('.'), 600, request));
    return reply.redirect(url.href, 302);
  });

  app.get('/oidc/callback', { schema: { hide: true }, config: { auth: 'self' } }, async (request, reply) => {
    const [verifier, state, nonce] = (readCookies(request)[FLOW_COOKIE] ?? '').split('.');
    if (!verifier || !state || !nonce) throw new ProblemError('unauthenticated', 'no sign-in is in progress: start at /api/oidc/login');
    const current = new URL(request.url, options.redirectUrl);
    let claims: client.IDToken | undefined;
    try {
      const tokens = await client.authorizationCodeGrant(await config(), current, {
        pkceCodeVerifier: verifier,
        expectedState: state,
        expectedNonce: nonce,
      });
      claims = tokens.claims();
    } catch (error) {
      throw new ProblemError('unauthenticated', `the provider's answer did not check out: ${(error as Error).message}`);
    }
    const claim = options.userClaim ?? 'preferred_username';
    const userId = String(claims?.[claim] ?? claims?.sub ?? '');
    const memberships = [];
    for (const org of await security.orgs()) {
      const role = await security.role(org.id, userId);
      if (role) memberships.push({ org: org.id, role });
    }
    const first = memberships[0];
    if (!first) throw new ProblemError('forbidden', `'${userId}' signed in at the provider but is no member of any organisation here`);
    const { plaintext } = await createToken(security, pepper, {
      orgId: first.org,
      userId,
      name: 'oidc session',
      scopes: ROLE_SCOPES[first.role],
      expiresAt: new Date(Date.now() + SESSION_SECONDS * 1000),
    });
    startSession(reply, request, plaintext, SESSION_SECONDS);
    reply.header('set-cookie', [...([reply.getHeader('set-cookie')].flat() as string[]), flowCookie('', 0, request)]);
    return reply.redirect('/', 302);
  });
}

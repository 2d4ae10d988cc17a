import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { issueToken, type Keyring, TOKEN_SCOPES, type TokenScope } from '../../security/index.js';
import { ROLE_SCOPES, type SecurityStore, type TokenRow } from '../../store/security.js';
import { ProblemError } from '../problem.js';
import { problemResponses } from '../schemas.js';
import type { TokenAuthenticator } from './authenticator.js';
import { type OidcOptions, oidcRoutes } from './oidc.js';
import type { Principal } from './principal.js';
import { quotaRoutes } from './quotas.js';
import { secretRoutes } from './secrets.js';
import { sessionRoutes } from './session.js';
import { userRoutes } from './users.js';

const Scope = Type.Union(TOKEN_SCOPES.map((scope) => Type.Literal(scope)));
const Name = Type.String({ minLength: 1, maxLength: 100, pattern: '^[^\\u0000-\\u001f\\u007f]+$' });
const OrgId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z0-9][a-z0-9-]*$' });
const TokenIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });

const CreateTokenBody = Type.Object(
  {
    name: Name,
    scopes: Type.Array(Scope, { minItems: 1, maxItems: TOKEN_SCOPES.length, uniqueItems: true }),
    expires_in_s: Type.Optional(Type.Integer({ minimum: 60, maximum: 10 * 365 * 24 * 3600 })),
    user_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'a member the token acts for (default: the caller)' })),
    shared: Type.Optional(
      Type.Boolean({
        description:
          "an ant token serving every organisation's jobs (platform administrators only); otherwise only the caller's organisation's",
      }),
    ),
  },
  { additionalProperties: false },
);
const TokenSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  org: Type.String(),
  scopes: Type.Array(Type.String()),
  shared: Type.Optional(Type.Boolean({ description: "an ant token that serves every organisation's jobs" })),
  created_at: Type.String({ format: 'date-time' }),
  expires_at: Type.Optional(Type.String({ format: 'date-time' })),
  last_used_at: Type.Optional(Type.String({ format: 'date-time' })),
  revoked_at: Type.Optional(Type.String({ format: 'date-time' })),
});
const IssuedSchema = Type.Intersect([
  TokenSchema,
  Type.Object({ token: Type.String({ description: 'shown once; only its hash is kept' }) }),
]);
const CreateOrgBody = Type.Object(
  {
    id: OrgId,
    name: Name,
    max_jobs: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
    max_queued: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
    max_submits_per_minute: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
  },
  { additionalProperties: false },
);
const AuditQuery = Type.Object(
  { after: Type.Optional(Type.Integer({ minimum: 0 })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) },
  { additionalProperties: false },
);

const iso = (date: Date | undefined) => (date ? { value: date.toISOString() } : undefined);

function tokenToWire(token: Omit<TokenRow, 'hash'>) {
  const optional = { expires_at: iso(token.expiresAt), last_used_at: iso(token.lastUsedAt), revoked_at: iso(token.revokedAt) };
  return {
    id: token.id,
    name: token.name,
    org: token.orgId,
    scopes: [...token.scopes],
    ...(token.antShared ? { shared: true } : {}),
    created_at: token.createdAt.toISOString(),
    ...Object.fromEntries(Object.entries(optional).flatMap(([key, v]) => (v ? [[key, v.value]] : []))),
  };
}

function caller(request: FastifyRequest): Principal {
  if (!request.principal) throw new ProblemError('unauthenticated', 'this route needs an API token');
  return request.principal;
}

/** Issues a token and stores its hash: the plaintext exists only in the returned value. */
export async function createToken(
  security: SecurityStore,
  pepper: Buffer,
  token: { orgId: string; userId?: string; name: string; scopes: readonly TokenScope[]; expiresAt?: Date; antShared?: boolean },
): Promise<{ plaintext: string; row: Omit<TokenRow, 'hash'> }> {
  const issued = issueToken(pepper);
  const row = {
    id: issued.id,
    orgId: token.orgId,
    ...(token.userId ? { userId: token.userId } : {}),
    name: token.name,
    scopes: token.scopes,
    createdAt: new Date(),
    ...(token.expiresAt ? { expiresAt: token.expiresAt } : {}),
    ...(token.antShared ? { antShared: true } : {}),
  };
  await security.saveToken({ ...row, hash: issued.hash });
  return { plaintext: issued.plaintext, row };
}

/** Tokens, organisations, quotas, the audit log and dashboard sessions, under /api. */
export async function securityRoutes(
  app: FastifyInstance,
  security: SecurityStore,
  authenticator: TokenAuthenticator,
  pepper: Buffer,
  keyring?: Keyring,
  oidc?: OidcOptions,
): Promise<void> {
  await sessionRoutes(app, authenticator, oidc !== undefined);
  await secretRoutes(app, security, keyring);
  await userRoutes(app, security);
  await quotaRoutes(app, security, security.quotas());
  if (oidc) await oidcRoutes(app, security, pepper, oidc);
  app.post(
    '/tokens',
    {
      schema: {
        summary: "Create an API token for the caller's organisation; the token is in this answer only",
        tags: ['security'],
        body: CreateTokenBody,
        response: { 201: IssuedSchema, ...problemResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const principal = caller(request);
      const body = request.body as { name: string; scopes: TokenScope[]; expires_in_s?: number; user_id?: string; shared?: boolean };
      const userId = body.user_id ?? principal.userId;
      if (body.shared && !body.scopes.includes('ant')) {
        throw new ProblemError('validation-error', 'only an ant token can be shared', [
          { field: 'shared', in: 'body', message: "needs the 'ant' scope in scopes" },
        ]);
      }
      // A shared ant runs every organisation's tasks and sees their secrets: the platform's call.
      if (body.shared && !principal.platformAdmin) {
        throw new ProblemError('forbidden', 'a shared ant token serves every organisation: creating one needs a platform administrator');
      }
      if (body.user_id !== undefined) {
        const role = await security.role(principal.orgId, body.user_id);
        if (!role) throw new ProblemError('not-found', `no member of this organisation is '${body.user_id}'`);
        const beyond = body.scopes.filter((scope) => !ROLE_SCOPES[role].includes(scope));
        if (beyond.length > 0) {
          throw new ProblemError('validation-error', `a ${role} cannot hold ${beyond.join(', ')}`, [
            { field: 'scopes', in: 'body', message: `must be within the ${role} role: ${ROLE_SCOPES[role].join(', ')}` },
          ]);
        }
      }
      const { plaintext, row } = await createToken(security, pepper, {
        orgId: principal.orgId,
        ...(userId ? { userId } : {}),
        name: body.name,
        scopes: body.scopes,
        ...(body.expires_in_s ? { expiresAt: new Date(Date.now() + body.expires_in_s * 1000) } : {}),
        ...(body.shared ? { antShared: true } : {}),
      });
      reply.code(201);
      return { ...tokenToWire(row), token: plaintext };
    },
  );

  app.get(
    '/tokens',
    {
      schema: {
        summary: "The caller's organisation's tokens (never their secrets)",
        tags: ['security'],
        response: { 200: Type.Object({ items: Type.Array(TokenSchema) }), ...problemResponses(401, 403) },
      },
    },
    async (request) => ({ items: (await security.tokens(caller(request).orgId)).map(tokenToWire) }),
  );

  app.delete(
    '/tokens/:id',
    {
      schema: {
        summary: 'Revoke a token: every queen refuses it within a second',
        tags: ['security'],
        params: TokenIdParams,
        response: { 204: { type: 'null', description: 'revoked' }, ...problemResponses(401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      if (!(await security.revokeToken(caller(request).orgId, id, new Date()))) {
        throw new ProblemError('not-found', `no active token has the id '${id}'`);
      }
      authenticator.forget(id);
      return reply.code(204).send();
    },
  );

  app.post(
    '/orgs',
    {
      schema: {
        summary: 'Create an organisation with its first admin token (platform administrators only)',
        tags: ['security'],
        body: CreateOrgBody,
        response: {
          201: Type.Object({ id: Type.String(), name: Type.String(), token: Type.String() }),
          ...problemResponses(400, 401, 403, 409),
        },
      },
    },
    async (request, reply) => {
      if (!caller(request).platformAdmin) throw new ProblemError('forbidden', 'creating an organisation needs a platform administrator');
      const body = request.body as { id: string; name: string; max_jobs?: number; max_queued?: number; max_submits_per_minute?: number };
      if (await security.org(body.id)) throw new ProblemError('conflict', `the organisation '${body.id}' exists`);
      const quota = {
        ...(body.max_jobs === undefined ? {} : { maxJobs: body.max_jobs }),
        ...(body.max_queued === undefined ? {} : { maxQueued: body.max_queued }),
        ...(body.max_submits_per_minute === undefined ? {} : { maxSubmitsPerMinute: body.max_submits_per_minute }),
      };
      await security.createOrg({ id: body.id, name: body.name, quota }, new Date());
      const { plaintext } = await createToken(security, pepper, { orgId: body.id, name: `${body.id} admin`, scopes: ['admin'] });
      reply.code(201);
      return { id: body.id, name: body.name, token: plaintext };
    },
  );

  app.get(
    '/quota',
    {
      schema: {
        summary: "The caller's organisation's quota",
        tags: ['security'],
        response: {
          200: Type.Object({
            org: Type.String(),
            max_jobs: Type.Optional(Type.Integer()),
            max_queued: Type.Optional(Type.Integer()),
            max_submits_per_minute: Type.Optional(Type.Integer()),
          }),
          ...problemResponses(401, 403),
        },
      },
    },
    async (request) => {
      const org = await security.org(caller(request).orgId);
      return {
        org: caller(request).orgId,
        ...(org?.quota.maxJobs === undefined ? {} : { max_jobs: org.quota.maxJobs }),
        ...(org?.quota.maxQueued === undefined ? {} : { max_queued: org.quota.maxQueued }),
        ...(org?.quota.maxSubmitsPerMinute === undefined ? {} : { max_submits_per_minute: org.quota.maxSubmitsPerMinute }),
      };
    },
  );

  app.get(
    '/audit',
    {
      schema: {
        summary: "Audit rows of the caller's organisation (all of them for a platform administrator), oldest first",
        tags: ['security'],
        querystring: AuditQuery,
        response: {
          200: Type.Object({ items: Type.Array(Type.Object({}, { additionalProperties: true })) }),
          ...problemResponses(400, 401, 403),
        },
      },
    },
    async (request) => {
      const principal = caller(request);
      const query = request.query as { after?: number; limit?: number };
      const rows = await security.audit({
        afterSeq: query.after ?? 0,
        limit: query.limit ?? 100,
        ...(principal.platformAdmin ? {} : { org: principal.orgId }),
      });
      return { items: rows.map((row) => ({ ...row })) };
    },
  );
}

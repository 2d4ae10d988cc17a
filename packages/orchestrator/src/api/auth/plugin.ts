import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { internalJobType } from '../../domain/job-type-names.js';
import { type Keyring, scopeAllows } from '../../security/index.js';
import type { SecurityStore } from '../../store/security.js';
import { ProblemError } from '../problem.js';
import type { TokenAuthenticator } from './authenticator.js';
import type { OidcOptions } from './oidc.js';
import { currentPrincipal, type Principal } from './principal.js';
import { isPublic, requiredScope } from './scopes.js';
import { checkCsrf, readCookies, SESSION_COOKIE } from './session.js';
import { sharedRateLimitStore } from './shared-rate-limit.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth hook on every request that needed a token. */
    principal?: Principal;
  }
  interface FastifyContextConfig {
    /** `self`: the route checks its own credentials (the ants' WebSocket). */
    auth?: 'self';
  }
}

export interface RateLimitOptions {
  /** Requests per window per token (per client address without one); default 1200. */
  readonly max?: number;
  /** Default 60 s. */
  readonly windowMs?: number;
  /** Requests per window for all of one organisation's tokens together; default 6000. */
  readonly orgMax?: number;
  /**
   * Count in the queens' database, so the limits hold across every queen (default: each queen counts
   * its own requests, so N queens allow N times the limit). Costs a write per request.
   */
  readonly shared?: boolean;
}

export interface AuthOptions {
  readonly security: SecurityStore;
  readonly authenticator: TokenAuthenticator;
  readonly rateLimit?: RateLimitOptions;
  /** Seals the organisations' secrets; without it secrets cannot be stored. */
  readonly keyring?: Keyring;
  /** Dashboard sign-in through an OpenID provider. */
  readonly oidc?: OidcOptions;
}

const FAILURES = {
  malformed: 'the bearer token is not a Myrmex token (myx_<id>_<secret>)',
  unknown: 'the bearer token is not known',
  revoked: 'the bearer token was revoked',
  expired: 'the bearer token has expired',
} as const;

/** Routes that check their own credentials: the ants' WebSocket takes ant tokens (see serve). */
const SELF_AUTHENTICATED = new Set(['/api/ants/socket', '/api/session']);

function bearer(request: FastifyRequest): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
}

/** The route pattern (`/api/jobs/requests/:id`), or the path when no route matched. */
function routeOf(request: FastifyRequest): string {
  return request.routeOptions.url ?? request.url.split('?')[0] ?? request.url;
}

/**
 * Authentication, authorisation, tenancy, rate limits and the audit trail, as hooks on the root
 * instance so they cover every route, including those registered later (metrics, the dashboard).
 */
export async function installAuth(app: FastifyInstance, options: AuthOptions): Promise<void> {
  const { security, authenticator } = options;
  const windowMs = options.rateLimit?.windowMs ?? 60_000;
  // Set once the plugin is registered below; the hook that uses it runs only on requests, after that.
  let orgLimit: ReturnType<FastifyInstance['createRateLimit']> | undefined;
  app.decorateRequest('principal', undefined);

  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config?.auth === 'self' || SELF_AUTHENTICATED.has(request.routeOptions.url ?? '')) return;
    if (isPublic(request.method, request.url)) return;
    let token = bearer(request);
    if (token === undefined) {
      const cookies = readCookies(request);
      token = cookies[SESSION_COOKIE];
      if (token !== undefined) checkCsrf(request, cookies);
    }
    if (token === undefined) {
      reply.header('www-authenticate', 'Bearer realm="myrmex"');
      throw new ProblemError('unauthenticated', 'send an API token as Authorization: Bearer myx_… (`myrmex token create`)');
    }
    const result = await authenticator.check(token);
    if (typeof result === 'string') {
      reply.header('www-authenticate', 'Bearer realm="myrmex", error="invalid_token"');
      throw new ProblemError('unauthenticated', FAILURES[result]);
    }
    request.principal = result;
    const orgVerdict = await orgLimit?.(request);
    // `isAllowed` only marks allow-listed keys; being over the limit is `isExceeded`.
    if (orgVerdict && !orgVerdict.isAllowed && orgVerdict.isExceeded) {
      reply.header('retry-after', String(orgVerdict.ttlInSeconds));
      throw Object.assign(
        new Error(
          `organisation ${result.orgId} sent more than ${orgVerdict.max} requests in ${windowMs / 1000}s; retry after ${orgVerdict.ttlInSeconds}s`,
        ),
        {
          statusCode: 429,
        },
      );
    }
    // An unknown route answers 404 to any valid token; scopes are for routes that exist.
    if (request.routeOptions.url === undefined) return;
    const route = routeOf(request);
    const needed = requiredScope(request.method, route);
    if (!scopeAllows(result.scopes, needed)) {
      throw new ProblemError('forbidden', `this token's scopes (${result.scopes.join(', ')}) do not include '${needed}'`);
    }
    // Ants are shared by every organisation: draining one is the platform's call.
    if (route.startsWith('/api/ants/') && request.method !== 'GET' && !result.platformAdmin) {
      throw new ProblemError('forbidden', 'ants serve every organisation: managing them needs a platform administrator');
    }
    if (!route.startsWith('/api/') && !result.platformAdmin) {
      throw new ProblemError('forbidden', `${route} spans every organisation: it needs a platform administrator's token`);
    }
  });

  await app.register(rateLimit, {
    global: true,
    ...(options.rateLimit?.shared && { store: sharedRateLimitStore(security) }),
    max: options.rateLimit?.max ?? 1200,
    timeWindow: windowMs,
    keyGenerator: (request) => (request.principal ? `token:${request.principal.tokenId}` : `ip:${request.ip}`),
    allowList: (request) => isPublic(request.method, request.url) && !request.url.startsWith('/api/'),
    errorResponseBuilder: (_request, context) =>
      Object.assign(new Error(`more than ${context.max} requests in ${context.after}; retry after ${context.after}`), { statusCode: 429 }),
  });

  // Per organisation, across its tokens: a second counter on the plugin's store, keyed by the organisation.
  orgLimit = app.createRateLimit({
    max: options.rateLimit?.orgMax ?? 6000,
    timeWindow: windowMs,
    keyGenerator: (request) => `org:${request.principal?.orgId ?? '-'}`,
  });

  app.addHook('preHandler', (request, _reply, done) => {
    const principal = request.principal;
    if (!principal) return done();
    const params = (request.params ?? {}) as Record<string, unknown>;
    const checks: Promise<void>[] = [];
    if (typeof params.id === 'string' && routeOf(request).startsWith('/api/jobs/requests/')) {
      const id = params.id;
      checks.push(
        security.jobOrg(id).then((org) => {
          if (org !== principal.orgId) throw new ProblemError('not-found', `no job request has the id '${id}'`);
        }),
      );
    }
    if (typeof params.type === 'string') {
      const type = params.type;
      checks.push(
        security.definitionOrg(internalJobType(principal.orgId, type)).then((org) => {
          if (org !== principal.orgId) throw new ProblemError('not-found', `no job definition has the type '${type}'`);
        }),
      );
    }
    // The handler runs inside done(): it and everything it awaits see the caller.
    Promise.all(checks).then(
      () => currentPrincipal.run(principal, done),
      (error: Error) => done(error),
    );
  });

  app.addHook('onResponse', async (request, reply) => {
    if (request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS') return;
    const status = reply.statusCode;
    const principal = request.principal;
    await security
      .appendAudit({
        at: new Date().toISOString(),
        org: principal?.orgId ?? '-',
        actor: principal ? `token:${principal.tokenId}` : 'anonymous',
        action: `${request.method} ${routeOf(request)}`,
        target: request.url.split('?')[0] ?? request.url,
        source: request.ip,
        outcome: status < 400 ? 'ok' : status === 401 || status === 403 || status === 429 ? 'denied' : 'failed',
        detail: { status },
      })
      .catch((error: unknown) => request.log.error({ err: error }, 'audit append failed'));
  });
}

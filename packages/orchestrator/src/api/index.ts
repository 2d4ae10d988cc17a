import swagger from '@fastify/swagger';
import type { IdempotencyStore } from '@myrmex/idempotency';
import fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { QueenService } from '../queen/service.js';
import { type AuthOptions, installAuth, securityRoutes, tenantQueen } from './auth/index.js';
import { ConnectionCloser } from './closing.js';
import { installErrorHandlers } from './errors.js';
import { approvalRoutes } from './routes/approvals.js';
import { artifactRoutes } from './routes/artifacts.js';
import { definitionRoutes } from './routes/definitions.js';
import { type EventService, eventRoutes } from './routes/events.js';
import { type GuardKeeper, guardRoutes } from './routes/guards.js';
import { insightRoutes } from './routes/insight.js';
import { requestRoutes } from './routes/requests.js';
import { schedulingRoutes, type WaitExplainer } from './routes/scheduling.js';
import { streamRoutes } from './routes/streams.js';
import { systemRoutes } from './routes/system.js';
import { namedSchemas, ProblemSchema } from './schemas.js';
import { SseRegistry } from './sse.js';
import { httpsServerFactory, type TlsMaterial } from './tls.js';
import { createValidatorCompiler } from './validation.js';

export * from './auth/index.js';
export { type FieldError, PROBLEM_CONTENT_TYPE, type Problem, ProblemError, type ProblemKind, problemTypeUri } from './problem.js';

export interface ApiOptions {
  /** A pino logger (or anything Fastify accepts as `loggerInstance`); silent when absent. */
  readonly logger?: FastifyBaseLogger;
  /** Reported by /api/health and the OpenAPI document. */
  readonly version?: string;
  /** Largest request body accepted, in bytes (default 1 MiB). */
  readonly bodyLimit?: number;
  /** Comment lines on idle event streams, in ms (default 15 s). */
  readonly heartbeatMs?: number;
  /**
   * Where Idempotency-Key records live. With a store, a submission retried with the same key
   * replays the first answer instead of creating a second job; without one the header is ignored.
   */
  readonly idempotencyStore?: IdempotencyStore;
  /** Registers more routes outside /api (metrics, health, the dashboard) before the instance is ready; its hooks apply to every route. */
  readonly extend?: (app: FastifyInstance) => Promise<void>;
  /**
   * Tokens, scopes, organisations, rate limits and the audit trail (issue 17). Without it the API is
   * open, which `serve` allows on a loopback address only.
   */
  readonly auth?: AuthOptions & { readonly pepper: Buffer };
  /** Serve HTTPS (and WSS for remote ants) with this certificate and key instead of plain HTTP. */
  readonly tls?: TlsMaterial;
  /** How long closing waits for requests still being answered before it cuts their connections (default 5 s). */
  readonly closeGraceMs?: number;
}

/**
 * The REST API over a QueenService, mounted under /api; not yet listening. Closing the instance ends
 * open event streams first, so shutdown never waits for followers to hang up.
 */
export async function createApi(served: QueenService, options: ApiOptions = {}): Promise<FastifyInstance> {
  for (const name of ['bodyLimit', 'heartbeatMs', 'closeGraceMs'] as const) {
    const value = options[name];
    if (value !== undefined && !(Number.isSafeInteger(value) && value > 0)) {
      throw new RangeError(`createApi: ${name} must be a positive integer, got ${String(value)}`);
    }
  }
  const version = options.version ?? '0.1.0';
  const app = fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    ...(options.tls && { serverFactory: httpsServerFactory(options.tls) }),
  });
  const streams = new SseRegistry(options.heartbeatMs ?? 15_000);
  app.setValidatorCompiler(createValidatorCompiler());
  for (const schema of namedSchemas()) app.addSchema(schema);
  app.addSchema(ProblemSchema);
  installErrorHandlers(app);
  if (options.auth) await installAuth(app, options.auth);
  // Routes see one organisation's queen when callers authenticate.
  const queen = options.auth ? tenantQueen(served, options.auth.security) : served;
  await app.register(swagger, {
    // Shared schemas appear in the document under their $id (`Problem`), not as `def-0`.
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, index) => String(json.$id ?? `def-${index}`) },
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Myrmex orchestrator API',
        version,
        description: 'Job definitions, job requests, logs and ants of a Myrmex queen. Errors are RFC 9457 application/problem+json.',
      },
      tags: [
        { name: 'definitions', description: 'versioned job definitions' },
        { name: 'requests', description: 'job requests (jobs), their tasks, timeline and logs' },
        { name: 'system', description: 'ants and health' },
        { name: 'security', description: 'tokens, organisations, quotas and the audit log' },
      ],
    },
  });
  // Idle connections close at once, busy ones as soon as their response finishes; a response still
  // being written gets a grace, so a stuck client (or a stream that never ends) cannot hold a queen's
  // shutdown open.
  const closer = new ConnectionCloser(app.server, options.closeGraceMs ?? 5_000);
  app.addHook('preClose', async () => {
    closer.begin();
    streams.closeAll('close', { reason: 'the queen is shutting down' });
  });

  await app.register(
    async (api) => {
      await api.register(async (scope) => definitionRoutes(scope, queen));
      await requestRoutes(api, queen, options.idempotencyStore);
      await streamRoutes(api, queen, streams);
      await systemRoutes(api, queen, version);
      await artifactRoutes(api, queen);
      await approvalRoutes(api, queen, options.auth?.security);
      await insightRoutes(api, queen, streams);
      await schedulingRoutes(api, queen, served as Partial<WaitExplainer>);
      await eventRoutes(api, served as Partial<EventService>, options.auth?.security);
      await guardRoutes(api, served as Partial<GuardKeeper>, queen);
      if (options.auth)
        await securityRoutes(
          api,
          options.auth.security,
          options.auth.authenticator,
          options.auth.pepper,
          options.auth.keyring,
          options.auth.oidc,
        );
      api.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
    },
    { prefix: '/api' },
  );
  if (options.extend) {
    const extend = options.extend;
    // Not encapsulated (Fastify's skip-override, as fastify-plugin sets it): hooks it adds reach the /api routes too.
    await app.register(Object.assign(async (scope: FastifyInstance) => extend(scope), { [Symbol.for('skip-override')]: true }));
  }
  await app.ready();
  return app;
}
export { type AntSocketOptions, antSocketRoutes } from './routes/ants-ws.js';
export type {
  AntWire,
  ApplyResultWire,
  ApprovalWire,
  DefinitionDetailWire,
  DefinitionVersionWire,
  HealthWire,
  JobDetailWire,
  JobPageWire,
  JobSummaryWire,
  LogLineWire,
  ProblemWire,
  TaskDetailWire,
  TimelineEventWire,
} from './schemas.js';

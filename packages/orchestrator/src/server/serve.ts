import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { type AuthenticateAnt, staticAntTokens } from '../ant/remote/auth.js';
import { createApi, type OpenedAuth, oidcFromEnvironment, openAuth, type RateLimitOptions } from '../api/index.js';
import { antSocketRoutes } from '../api/routes/ants-ws.js';
import { readTlsFiles, type SecureContextTarget, type TlsMaterial, type TlsReloader, watchTlsFiles } from '../api/tls.js';
import { blobStoreFromEnv } from '../artifacts/from-env.js';
import { enableLifecycleEvents } from '../events/index.js';
import { type ExecutorConfig, executorConfigFromEnv, parseImageMap } from '../executors/configured.js';
import { observabilityRoutes } from '../observability/index.js';
import { parseBreakerSettings } from '../queen/circuit-breakers.js';
import { parseConsumables } from '../queen/consumables.js';
import { notifyOptionsFromEnv } from '../queen/notify.js';
import { Queen } from '../queen/queen.js';
import type { SchedulingPolicy } from '../scheduler/policy.js';
import { Keyring } from '../security/index.js';
import { DEFAULT_DB_PATH, parseStoreUrl } from '../store/index.js';
import { resealSecrets, storeSecretSource } from '../store/secret-source.js';
import { dashboardRoutes } from './dashboard.js';
import { type DemoRun, findContainerEngine, runDemo } from './demo.js';
import { openIdempotencyFile, openIdempotencyPostgres } from './idempotency.js';
import { createLogger, type LogFormat } from './logger.js';
import { openObservedStore } from './observability.js';
import { startStatusEndpoint } from './status-endpoint.js';

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 7070;

export interface ServeOptions {
  /**
   * Where the queen keeps its state: a SQLite file path (its folder is created), `sqlite:<path>`, or
   * `postgres://user@host:5432/database` for several queens. Default: MYRMEX_DB, then ./.myrmex/myrmex.db.
   */
  readonly db?: string;
  /** The same as `db` (kept for callers that pass a SQLite file). */
  readonly dbPath?: string;
  readonly host?: string;
  /** 0 picks a free port (see `url`). Default 7070. */
  readonly port?: number;
  /** Tasks the embedded ant runs at once (default 4; 0 runs none: a queen for remote ants only). */
  readonly capacity?: number;
  /** Apply the examples, submit the demo jobs and log their progress. */
  readonly demo?: boolean;
  /** Where the demo's definitions are (default: examples/orchestrator of the working directory or of this repository). */
  readonly examplesDir?: string;
  /** Default: human lines on stdout (or JSON lines with `json`). */
  readonly logger?: Logger;
  readonly json?: boolean;
  /** `human` (default), `json` (same as `json: true`) or `pretty` (pino-pretty, every field shown). */
  readonly logFormat?: LogFormat;
  /** Shut down on SIGINT/SIGTERM (default true); a second signal exits at once. */
  readonly handleSignals?: boolean;
  /** How the scheduler orders, holds and places work (default: priority, then submission order). */
  readonly policy?: SchedulingPolicy;
  /**
   * Checks remote ants' tokens; with it (or `antTokens`, or MYRMEX_ANT_TOKENS) the queen accepts
   * remote ants on /api/ants/socket. SEC's token store (scope `ant`) provides one.
   */
  readonly authenticateAnt?: AuthenticateAnt;
  /** Static ant tokens, `token` or `antId=token`, comma-separated (default MYRMEX_ANT_TOKENS). */
  readonly antTokens?: string;
  /** Tags of the embedded ant (what task `tags` route to). */
  readonly antTags?: readonly string[];
  /** Labels of the embedded ant (what `node_selector` and `affinity` match). */
  readonly antLabels?: Readonly<Record<string, string>>;
  /** Resources of the embedded ant (`cpu: '8', memory: '16Gi'`): placement `resources` are counted against them. */
  readonly antResources?: Readonly<Record<string, string>>;
  /** Taints of the embedded ant (`gpu=true:NoSchedule`): only tasks that tolerate them run there. */
  readonly antTaints?: readonly string[];
  /**
   * API tokens on every route (default on; MYRMEX_AUTH=off turns it off). Off is allowed on a
   * loopback address only. The first start prints a generated platform admin token.
   */
  readonly auth?: boolean;
  /** Requests per token per window (default 1200 a minute); MYRMEX_RATE_LIMIT_SHARED=1 counts them across all queens. */
  readonly rateLimit?: RateLimitOptions;
  /** Containers and MESSAGING for the embedded ant; default from the environment (MYRMEX_CONTAINER_SOCKET, MYRMEX_NATS_URL). */
  readonly executorConfig?: ExecutorConfig;
  /**
   * Publish every job and task transition to this broker through an outbox: nats://, amqp://, redis:// or mqtt://,
   * with `?topic=` (default myrmex.events). See src/events.
   */
  readonly events?: string;
  /**
   * Serve HTTPS (the API, the dashboard, and WSS for remote ants): a PEM certificate (chain) file and
   * its private key file. Default MYRMEX_TLS_CERT and MYRMEX_TLS_KEY; both or neither. A renewed pair
   * is taken without a restart: on SIGHUP (with handleSignals) and when the files change.
   */
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  /** How often the certificate and key files are checked for a renewal, in ms (default 2000; 0: only on SIGHUP). */
  readonly tlsWatchMs?: number;
  /** Largest artifact file a remote ant may upload, in bytes (default MYRMEX_ANT_ARTIFACT_MAX_BYTES, else 1 GiB). */
  readonly maxArtifactBytes?: number;
}

export interface RunningServer {
  readonly url: string;
  readonly dbPath: string;
  readonly queen: Queen;
  readonly app: FastifyInstance;
  readonly demo?: DemoRun;
  /** Resolves once the server has shut down, whoever asked. */
  readonly closed: Promise<void>;
  /** Tokens and the security store, when authentication is on. */
  readonly auth?: OpenedAuth;
  close(): Promise<void>;
}

function defaultExamplesDir(): string {
  const local = resolve('examples/orchestrator');
  if (existsSync(local)) return local;
  // dist/server/serve.js and src/server/serve.ts both sit four levels below the repository root.
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../../../examples/orchestrator');
}

function readVersion(): string {
  return process.env.npm_package_version ?? '0.1.0';
}

/**
 * Opens the queen on a SQLite file and serves the REST API; with `demo`, also runs the examples.
 * The returned `closed` resolves after a graceful shutdown: the demo stops, event streams end, the
 * API stops accepting, the queen stops its tasks, the stores close. Job submissions honour the
 * Idempotency-Key header, with keys kept in `<db>-idempotency.db` next to the queen's file.
 */
/** Rejects options a caller could get wrong before anything is opened, naming the option. */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** Whether tokens are required: the option, else MYRMEX_AUTH (`off`/`false`/`0` turn it off), else on. */
function authEnabled(options: ServeOptions): boolean {
  if (options.auth !== undefined) return options.auth;
  return !/^(off|false|0|no)$/i.test(process.env.MYRMEX_AUTH ?? '');
}

function checkOptions(options: ServeOptions): void {
  const integer = (name: string, value: unknown, min: number, max: number) => {
    if (value !== undefined && (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)) {
      throw new RangeError(`serve: ${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
    }
  };
  integer('port', options.port, 0, 65_535);
  integer('tlsWatchMs', options.tlsWatchMs, 0, 86_400_000);
  integer('capacity', options.capacity, 0, 1024);
  integer('maxArtifactBytes', options.maxArtifactBytes, 1, Number.MAX_SAFE_INTEGER);
  for (const name of ['db', 'dbPath', 'host', 'examplesDir', 'tlsCert', 'tlsKey'] as const) {
    const value = options[name];
    if (value !== undefined && (typeof value !== 'string' || value.trim() === '')) {
      throw new TypeError(`serve: ${name} must be a non-empty string, got ${JSON.stringify(value)}`);
    }
  }
  const host = options.host ?? DEFAULT_HOST;
  if (!authEnabled(options) && !isLoopback(host)) {
    throw new Error(
      `serve: refusing to listen on ${host} without authentication: anyone who reaches it could run jobs. ` +
        'Turn authentication on (unset MYRMEX_AUTH=off), or bind to 127.0.0.1.',
    );
  }
}

interface TlsFiles {
  readonly material: TlsMaterial;
  readonly cert: string;
  readonly key: string;
  readonly names: { cert: string; key: string };
}

/** The certificate and key from the options or MYRMEX_TLS_CERT/MYRMEX_TLS_KEY, read and checked; undefined for plain HTTP. */
function tlsOf(options: ServeOptions): TlsFiles | undefined {
  const env = (name: string) => (process.env[name] === '' ? undefined : process.env[name]);
  const cert = options.tlsCert ?? env('MYRMEX_TLS_CERT');
  const key = options.tlsKey ?? env('MYRMEX_TLS_KEY');
  const certName = options.tlsCert === undefined ? 'MYRMEX_TLS_CERT' : 'tlsCert';
  const keyName = options.tlsKey === undefined ? 'MYRMEX_TLS_KEY' : 'tlsKey';
  if (cert === undefined && key === undefined) return undefined;
  if (cert === undefined) throw new RangeError(`serve: ${keyName} is given without a certificate: give tlsCert (MYRMEX_TLS_CERT) too`);
  if (key === undefined) throw new RangeError(`serve: ${certName} is given without a key: give tlsKey (MYRMEX_TLS_KEY) too`);
  const names = { cert: certName, key: keyName };
  return { material: readTlsFiles(cert, key, names), cert, key, names };
}

/** The upload bound for remote ants' artifacts: the option, else MYRMEX_ANT_ARTIFACT_MAX_BYTES, else undefined (the route's default). */
function maxArtifactBytesOf(options: ServeOptions): number | undefined {
  if (options.maxArtifactBytes !== undefined) return options.maxArtifactBytes;
  const text = process.env.MYRMEX_ANT_ARTIFACT_MAX_BYTES;
  if (text === undefined || text === '') return undefined;
  if (!/^[1-9]\d*$/.test(text)) throw new RangeError(`MYRMEX_ANT_ARTIFACT_MAX_BYTES must be a whole number of bytes, got '${text}'`);
  return Number(text);
}

export async function serve(options: ServeOptions = {}): Promise<RunningServer> {
  checkOptions(options);
  // Bad TLS files fail here, naming them, before anything is opened.
  const tls = tlsOf(options);
  const maxArtifactBytes = maxArtifactBytesOf(options);
  const logFormat: LogFormat = options.logFormat ?? (options.json ? 'json' : 'human');
  const logger = options.logger ?? createLogger({ format: logFormat });
  const field = options.db !== undefined ? 'db' : options.dbPath !== undefined ? 'dbPath' : 'MYRMEX_DB';
  const location = parseStoreUrl(options.db ?? options.dbPath ?? process.env.MYRMEX_DB ?? DEFAULT_DB_PATH, field);
  const storeValue = location.kind === 'sqlite' ? (location.path === ':memory:' ? location.path : resolve(location.path)) : location.url;
  if (location.kind === 'sqlite' && storeValue !== ':memory:') mkdirSync(dirname(storeValue), { recursive: true });
  // What is shown and returned: a PostgreSQL URL without its password.
  const dbPath = location.kind === 'sqlite' ? storeValue : storeValue.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
  // People read the demo's own progress lines; the queen's and Fastify's info lines are for --json.
  const quiet = logFormat === 'human' ? { level: 'warn' } : {};
  // Undone in reverse order on shutdown, or at once when start-up fails half-way.
  const teardown: (() => Promise<void> | void)[] = [];
  const unwind = async () => {
    for (const step of teardown.splice(0).reverse()) await step();
  };

  let url: string;
  let queen: Queen;
  let app: FastifyInstance;
  let auth: OpenedAuth | undefined;
  let tlsReloader: TlsReloader | undefined;
  const antTokens = options.antTokens ?? process.env.MYRMEX_ANT_TOKENS;
  const rateLimit = /^(1|true|on|yes)$/i.test(process.env.MYRMEX_RATE_LIMIT_SHARED ?? '')
    ? { ...options.rateLimit, shared: true }
    : options.rateLimit;
  const authenticateAnt = options.authenticateAnt ?? (antTokens ? staticAntTokens(antTokens) : undefined);
  try {
    const observedStore = openObservedStore(storeValue);
    if (options.events !== undefined) {
      const where = location.kind === 'sqlite' ? { kind: 'sqlite' as const, path: storeValue } : location;
      const lifecycle = await enableLifecycleEvents(
        observedStore.store,
        where,
        options.events,
        logger.child({ component: 'events' }),
        observedStore.traceId,
      );
      teardown.push(() => lifecycle.stop());
    }
    // Secrets sealed under MYRMEX_SECRET_KEYS[_FILE]; a rotation's new first key re-seals the rest in the background.
    const keyring = Keyring.fromEnvironment();
    if (keyring) {
      const security = observedStore.store.security();
      void resealSecrets(security, keyring).then(
        (count) => count > 0 && logger.info(`re-sealed ${count} secrets under key ${keyring.primaryId}`),
        (error: unknown) => logger.warn({ err: error }, 'could not re-seal secrets under the new key'),
      );
    }
    const breaker = parseBreakerSettings(process.env.MYRMEX_CIRCUIT_BREAKER ?? '');
    const configured = options.executorConfig ?? executorConfigFromEnv();
    // The demo finds a local Docker or Podman by itself when none is configured, to show its container example.
    const found = options.demo && configured.container === undefined ? await findContainerEngine() : undefined;
    if (found !== undefined) logger.info(`demo: running container tasks on the engine at ${found}`);
    const images = process.env.MYRMEX_CONTAINER_IMAGES;
    const executorConfig: ExecutorConfig =
      found === undefined
        ? configured
        : { ...configured, container: { socketPath: found, ...(images ? { images: parseImageMap(images) } : {}) } };
    queen = await Queen.open({
      store: observedStore.store,
      ...observedStore.queenHooks,
      ...(keyring && { secrets: storeSecretSource(observedStore.store.security(), keyring) }),
      ant: {
        capacity: options.capacity ?? 4,
        ...(options.antTags && { tags: options.antTags }),
        ...(options.antLabels && { labels: options.antLabels }),
        ...(options.antResources && { resources: options.antResources }),
        ...(options.antTaints && { taints: options.antTaints }),
      },
      executorConfig,
      // Artifacts beside the SQLite file, or in S3 / MYRMEX_ARTIFACTS_DIR (several queens need a shared place).
      blobs: blobStoreFromEnv(
        process.env,
        location.kind === 'sqlite' && storeValue !== ':memory:' ? resolve(dirname(storeValue), 'artifacts') : resolve('.myrmex/artifacts'),
      ),
      logger: logger.child({ component: 'queen' }, quiet),
      ...(options.policy && { policy: options.policy }),
      // Consumable pools (License=2,...) and the HTTP circuit breaker for every HTTP task, from the environment.
      ...(process.env.MYRMEX_CONSUMABLES && { consumables: parseConsumables(process.env.MYRMEX_CONSUMABLES) }),
      ...(breaker && { circuitBreaker: breaker }),
      // notify e-mail and Slack transports (MYRMEX_SMTP_URL, MYRMEX_SMTP_FROM, MYRMEX_SLACK_WEBHOOK_URL).
      ...(notifyOptionsFromEnv(process.env) && { notify: notifyOptionsFromEnv(process.env) }),
    });
    const opened = queen;
    teardown.push(() => opened.stop());
    const observed = observedStore.observe(queen, logger.child({ component: 'jobs' }, quiet));
    teardown.push(() => observed.close());
    await queen.start();
    // Admissions past a soft quota are audited where they happen, on the queen that admitted them.
    const auditLog = observedStore.store.security();
    teardown.push(
      queen.onSchedulerPass((pass) => {
        for (const warning of pass.quotaWarnings ?? []) {
          void auditLog
            .appendAudit({
              at: new Date().toISOString(),
              org: warning.org,
              actor: warning.user ?? 'system',
              action: 'quota.soft-exceeded',
              target: `job/${warning.jobId}`,
              source: 'scheduler',
              outcome: 'ok',
              detail: { quota: warning.breaches.map((b) => b.message).join('; ') },
            })
            .catch((error: unknown) => logger.warn({ err: error }, 'could not audit a soft quota warning'));
        }
      }),
    );
    const idempotencyLogger = logger.child({ component: 'idempotency' });
    const idempotency =
      location.kind === 'postgres'
        ? await openIdempotencyPostgres(location.url, idempotencyLogger)
        : openIdempotencyFile(storeValue, idempotencyLogger);
    teardown.push(() => idempotency.close());
    if (authEnabled(options)) auth = await openAuth(observedStore.store.security());
    const oidc = auth ? oidcFromEnvironment() : undefined;
    app = await createApi(queen, {
      logger: logger.child({ component: 'api' }, quiet),
      version: readVersion(),
      idempotencyStore: idempotency.store,
      ...(tls && { tls: tls.material }),
      ...(auth && {
        auth: { ...auth, ...(keyring && { keyring }), ...(oidc && { oidc }), ...(rateLimit && { rateLimit }) },
      }),
      extend: async (scope) => {
        await observabilityRoutes(scope, { queen: opened, metrics: observed.metrics });
        await dashboardRoutes(scope);
        // With authentication on, ants present tokens with the `ant` scope from the token store (issue 17).
        const tokens = auth?.authenticator;
        const antAuth = authenticateAnt ?? (tokens ? (token: string) => tokens.authenticateAnt(token) : undefined);
        if (antAuth) {
          await antSocketRoutes(scope, {
            hub: opened.remoteAnts,
            authenticateAnt: antAuth,
            drain: (id) => opened.drainAnt(id),
            blobs: opened.blobs,
            masker: (jobId) => opened.maskerOf(jobId),
            ...(maxArtifactBytes === undefined ? {} : { maxArtifactBytes }),
          });
        }
      },
    });
    const api = app;
    teardown.push(() => api.close());
    const host = options.host ?? DEFAULT_HOST;
    await app.listen({ host, port: options.port ?? DEFAULT_PORT });
    const address = app.server.address();
    if (tls) {
      // Fastify's server is the https.Server its factory made.
      const reloader = watchTlsFiles(app.server as unknown as SecureContextTarget, tls, {
        logger,
        ...(options.tlsWatchMs === undefined ? {} : { intervalMs: options.tlsWatchMs }),
      });
      tlsReloader = reloader;
      teardown.push(() => reloader.close());
    }
    url = `${tls ? 'https' : 'http'}://${host}:${typeof address === 'object' && address ? address.port : (options.port ?? DEFAULT_PORT)}`;
  } catch (error) {
    await unwind();
    throw error;
  }
  logger.info({ url, dbPath }, `myrmex queen listening on ${url} (store ${dbPath}); dashboard at ${url}/, metrics at ${url}/metrics`);
  if (auth?.bootstrapToken) {
    logger.warn(
      `first start: the platform admin token (shown once, keep it safe): ${auth.bootstrapToken}\n` +
        `  use it as 'Authorization: Bearer <token>' or 'export MYRMEX_TOKEN=<token>'; create others with 'myrmex token create'`,
    );
  } else if (!auth) logger.warn('authentication is off (MYRMEX_AUTH=off): every client on this machine can run jobs');

  let closing: Promise<void> | undefined;
  let resolveClosed: () => void = () => {};
  const closed = new Promise<void>((done) => {
    resolveClosed = done;
  });
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) {
      logger.warn(`${signal} again: exiting now`);
      process.exit(130);
    }
    logger.info(`${signal}: shutting down gracefully (again to force)`);
    void close();
  };
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await unwind();
      logger.info('myrmex queen stopped');
      resolveClosed();
    })();
    return closing;
  };
  if (options.handleSignals !== false) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    // SIGHUP reads a renewed certificate (certbot's deploy hook, `kill -HUP`); without TLS it keeps its default.
    const reloader = tlsReloader;
    const onHangUp = () => void reloader?.reload('SIGHUP');
    if (reloader) process.on('SIGHUP', onHangUp);
    teardown.push(() => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.off('SIGHUP', onHangUp);
    });
  }

  let demo: DemoRun | undefined;
  if (options.demo) {
    const statusEndpoint = await startStatusEndpoint();
    teardown.push(() => statusEndpoint.close());
    demo = await runDemo(queen, { examplesDir: options.examplesDir ?? defaultExamplesDir(), logger, statusUrl: statusEndpoint.url });
    const running = demo;
    teardown.push(() => running.stop());
  }
  return { url, dbPath, queen, app, ...(demo ? { demo } : {}), ...(auth ? { auth } : {}), closed, close };
}

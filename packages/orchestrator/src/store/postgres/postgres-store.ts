import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { migrateToLatest } from '../sql/migrations.js';
import { deliverCommitted, type Executor, type SqlDialect, SqlStore } from '../sql/sql-store.js';
import { type Change, StoreError } from '../store.js';
import { nameRepeatedStatements } from './named-statements.js';
import { QueueStatistics } from './statistics.js';

export interface PostgresStoreOptions {
  /** `postgres://user@host:port/database` */
  readonly url: string;
  /** Connections in the pool (default 10). */
  readonly poolSize?: number;
  /**
   * How long a new connection may take (default 5 s): past it the request fails as "database
   * unreachable" (the API's 503) instead of waiting on a host that does not answer.
   */
  readonly connectTimeoutMs?: number;
  /**
   * How long one statement may run, lock waits included (default MYRMEX_DB_STATEMENT_TIMEOUT_MS, then
   * 30 s; 0: no limit): past it PostgreSQL cancels the statement and the caller gets the error, so a
   * stuck query (a lock held by a hung client, a runaway plan) fails instead of hanging the queen.
   * Schema migrations run without it (an index build over a long history may take longer).
   */
  readonly statementTimeoutMs?: number;
}

/** What a queen waits for one statement at most unless told otherwise. */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;

function statementTimeout(options: PostgresStoreOptions): number {
  const raw = process.env.MYRMEX_DB_STATEMENT_TIMEOUT_MS;
  const value = options.statementTimeoutMs ?? (raw === undefined || raw === '' ? DEFAULT_STATEMENT_TIMEOUT_MS : Number(raw));
  if (!Number.isInteger(value) || value < 0) {
    const field = options.statementTimeoutMs === undefined ? 'MYRMEX_DB_STATEMENT_TIMEOUT_MS' : 'statementTimeoutMs';
    throw new StoreError(
      `${field} must be a whole number of milliseconds >= 0 (0: no limit), got '${String(options.statementTimeoutMs ?? raw)}'`,
    );
  }
  return value;
}

/** Migrates on a connection of its own, without the statement timeout. */
async function migrate(url: string, connectTimeoutMs: number): Promise<string> {
  const pool = new pg.Pool({ connectionString: url, max: 1, connectionTimeoutMillis: connectTimeoutMs });
  pool.on('error', () => undefined);
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  try {
    return await migrateToLatest(db, 'postgres');
  } finally {
    await db.destroy();
  }
}

/** The NOTIFY channel: payloads are job ids, so any queen wakes and looks at that job. */
export const CHANGE_CHANNEL = 'myrmex_jobs';

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

/**
 * PostgreSQL's part of the SQL store: row locks (`FOR UPDATE`, `SKIP LOCKED` for claims),
 * `pg_notify` inside the transaction (delivered on commit, to every queen, this one included) and
 * one listening connection that reconnects when the server goes away. This process's own commits
 * are delivered at once, with their timeline rows (as on SQLite), and their notifications, sent by
 * one of `ownBackends`, are dropped when they come back.
 */
function postgresDialect(
  db: Kysely<unknown>,
  url: string,
  connectTimeoutMs: number,
  onError: (error: unknown) => void,
  ownBackends: ReadonlySet<number>,
): SqlDialect & { close(): Promise<void> } {
  let emit: (change: Change) => void = () => {};
  let listener: pg.Client | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  const listen = async (): Promise<void> => {
    if (closed) return;
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: connectTimeoutMs });
    client.on('notification', (message) => {
      if (message.payload && !ownBackends.has(message.processId)) emit({ jobId: message.payload });
    });
    client.on('error', (error) => {
      onError(error);
      void client.end().catch(() => undefined);
      if (listener === client) listener = undefined;
      if (!closed) retry = setTimeout(() => void listen().catch(onError), 500);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGE_CHANNEL}`);
      // Closed while connecting: this connection must not outlive the store.
      if (closed) {
        await client.end().catch(() => undefined);
        return;
      }
      listener = client;
    } catch (error) {
      await client.end().catch(() => undefined);
      if (!closed) retry = setTimeout(() => void listen().catch(onError), 500);
      throw error;
    }
  };
  void listen().catch(onError);
  return {
    name: 'postgres',
    attach: (deliver) => {
      emit = deliver;
    },
    lock: (skip, of) => sql`FOR UPDATE${of === undefined ? sql`` : sql` OF ${sql.ref(of)}`}${skip ? sql` SKIP LOCKED` : sql``}`,
    eventNotify: sql`, pg_notify(${CHANGE_CHANNEL}, job_id)`,
    writesInWith: true,
    notify: async (tx, jobIds) => {
      await sql`SELECT pg_notify(${CHANGE_CHANNEL}, id) FROM (VALUES ${sql.join(jobIds.map((id) => sql`(${id})`))}) AS changed (id)`.execute(
        tx,
      );
    },
    committed: (jobIds, events) => deliverCommitted(emit, jobIds, events),
    transaction: <T>(work: (tx: Executor) => Promise<T>) => db.transaction().execute((trx) => work(trx as unknown as Executor)),
    close: async () => {
      closed = true;
      clearTimeout(retry);
      await listener?.end().catch(() => undefined);
    },
  };
}

/** The store for several queens: PostgreSQL, the same SQL as SQLite through Kysely. */
export class PostgresStore extends SqlStore {
  private closeListener: () => Promise<void> = async () => {};

  static open(options: PostgresStoreOptions): PostgresStore {
    const connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    const timeout = statementTimeout(options);
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: connectTimeoutMs,
      ...(timeout === 0 ? {} : { statement_timeout: timeout }),
    });
    // An idle connection the server dropped is replaced by the pool; its error must not crash the queen.
    pool.on('error', () => undefined);
    // The backends of this pool: their notifications are this process's commits, delivered already.
    const ownBackends = new Set<number>();
    const backend = (client: pg.PoolClient) => (client as unknown as { processID?: number }).processID;
    pool.on('connect', (client) => {
      // Nor may a checked-out one's error, dropped between two statements of a transaction: the statement
      // that follows fails with it (the pool then discards the connection), nothing else needs it.
      client.on('error', () => undefined);
      const pid = backend(client);
      if (pid !== undefined) ownBackends.add(pid);
    });
    nameRepeatedStatements(pool);
    pool.on('remove', (client) => {
      const pid = backend(client as pg.PoolClient);
      if (pid !== undefined) ownBackends.delete(pid);
    });
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
    const dialect = postgresDialect(db, options.url, connectTimeoutMs, () => undefined, ownBackends);
    const migrated = migrate(options.url, connectTimeoutMs);
    const store = new PostgresStore(`postgres:${redact(options.url)}`, db, dialect, migrated);
    store.closeListener = dialect.close;
    // An optimisation only: a check that fails (the database away) is made again a second later.
    const statistics = new QueueStatistics(db, () => undefined);
    migrated.then(
      () => {
        if (!store.closed) statistics.start();
      },
      () => undefined,
    );
    store.statistics = statistics;
    return store;
  }

  private statistics?: QueueStatistics;
  private closed = false;

  override async close(): Promise<void> {
    this.closed = true;
    await this.statistics?.stop();
    await this.closeListener();
    await super.close();
  }
}

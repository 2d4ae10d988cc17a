import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import BetterSqlite3, { type Database, type Statement } from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { migrateToLatest } from '../sql/migrations.js';
import { deliverCommitted, type Executor, type SqlDialect, SqlStore } from '../sql/sql-store.js';
import type { Change } from '../store.js';
import { BackgroundCheckpointer, type CheckpointStats } from './checkpointer.js';

export const DEFAULT_DB_PATH = './.myrmex/myrmex.db';

export interface SqliteStoreOptions {
  /** A file path or `:memory:`; parent directories are created. */
  readonly path?: string;
  readonly busyTimeoutMs?: number;
}

/** better-sqlite3 with its statements prepared once: Kysely's driver prepares on every call. */
function cachingDatabase(db: Database) {
  const statements = new Map<string, Statement>();
  return {
    close: () => db.close(),
    prepare: (text: string) => {
      let statement = statements.get(text);
      if (!statement) {
        statement = db.prepare(text);
        statements.set(text, statement);
      }
      return statement;
    },
  };
}

/**
 * Planner settings of every connection. No automatic indexes: a grouped write joins a VALUES list
 * to its table by key, and with a few hundred rows (an admission page) SQLite without statistics
 * would rather scan the whole table (every job, every task, however long the history) and build a
 * temporary index on the list than look each key up; without the option it looks them up. Every
 * hot query has its index (test/store/plans.test.ts), so none needs one built on the fly.
 */
export const PLANNER_PRAGMAS = ['automatic_index = OFF'] as const;

/** How many queued transactions one group commit takes at most, so other processes' writers get their turn. */
const GROUP_LIMIT = 256;

interface Queued {
  readonly work: (tx: Executor) => Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * SQLite's part of the SQL store: one connection, and `BEGIN IMMEDIATE` so a transaction holds the
 * write lock from its first read (a reader that later writes could otherwise lose to another
 * process's writer and fail instead of waiting). Changes are announced in-process after commit.
 *
 * Group commit: the transactions queued while the writer is busy run one after the other inside one
 * `BEGIN IMMEDIATE ... COMMIT`, each in its own savepoint (one that throws rolls back alone and
 * sees nothing of the others' failure), and each is acknowledged only after that COMMIT. A commit
 * costs far more than the statements of a transition, so under load this is most of the speed;
 * a lone transaction still commits at once, without a savepoint (its failure rolls back the whole
 * transaction, which holds nothing else). The control statements are prepared once and run on the
 * connection directly, not compiled by Kysely each time: an awaited submit is a group of its own.
 */
function sqliteDialect(db: Kysely<unknown>, raw: Database, file: string, checkpointer?: BackgroundCheckpointer): SqlDialect {
  let emit: (change: Change) => void = () => {};
  const writer = file === ':memory:' ? { tail: Promise.resolve() as Promise<unknown> } : writerFor(file);
  const queue: Queued[] = [];
  let draining = false;

  const control = (text: string) => {
    const statement = raw.prepare(text);
    return () => statement.run();
  };
  const begin = control('BEGIN IMMEDIATE');
  const commit = control('COMMIT');
  const rollback = control('ROLLBACK');
  const savepoint = control('SAVEPOINT work');
  const release = control('RELEASE work');
  const rollbackTo = control('ROLLBACK TO work');

  // Inside Kysely's hold on the connection, so nothing else of this store runs between these statements.
  const runGroup = (group: readonly Queued[]) =>
    db.connection().execute(async (connection) => {
      const outcomes: { ok: boolean; value: unknown }[] = [];
      const alone = group.length === 1;
      begin();
      try {
        for (const queued of group) {
          if (!alone) savepoint();
          try {
            const value = await queued.work(connection as Executor);
            if (!alone) release();
            outcomes.push({ ok: true, value });
          } catch (error) {
            if (alone) throw error;
            rollbackTo();
            release();
            outcomes.push({ ok: false, value: error });
          }
        }
        commit();
        checkpointer?.written();
      } catch (error) {
        if (raw.inTransaction) rollback();
        if (alone) return [{ ok: false, value: error }];
        throw error;
      }
      return outcomes;
    });

  const drain = async (): Promise<void> => {
    draining = true;
    try {
      while (queue.length > 0) {
        const group = queue.splice(0, GROUP_LIMIT);
        const run = () => runGroup(group);
        const done = writer.tail.then(run, run);
        writer.tail = done.catch(() => undefined);
        try {
          const outcomes = await done;
          for (const [i, outcome] of outcomes.entries()) {
            if (outcome.ok) group[i]!.resolve(outcome.value);
            else group[i]!.reject(outcome.value);
          }
        } catch (error) {
          for (const queued of group) queued.reject(error);
        }
      }
    } finally {
      draining = false;
    }
  };

  return {
    name: 'sqlite',
    attach: (deliver) => {
      emit = deliver;
    },
    lock: () => sql``,
    eventNotify: sql``,
    writesInWith: false,
    notify: async () => {},
    committed: (jobIds, events) => deliverCommitted(emit, jobIds, events),
    transaction: <T>(work: (tx: Executor) => Promise<T>) =>
      new Promise<T>((resolve, reject) => {
        queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
        if (!draining) void drain();
      }),
  };
}

/**
 * Write transactions of this process on one file, one after the other. SQLite's BEGIN IMMEDIATE
 * waits synchronously for the file's write lock: a connection of this same process holding it
 * across an await could never release it while another one blocks the thread waiting.
 */
const writers = new Map<string, { tail: Promise<unknown> }>();
function writerFor(file: string): { tail: Promise<unknown> } {
  let writer = writers.get(file);
  if (!writer) {
    writer = { tail: Promise.resolve() };
    writers.set(file, writer);
  }
  return writer;
}

/**
 * Runs `work` (the migrations) inside `BEGIN IMMEDIATE`, so connections opening one new file at
 * once migrate it once. The lock is tried without blocking and retried asynchronously: a blocking
 * wait would stop this process's other connection from ever finishing its own migration.
 */
async function holdingWriteLock<T>(raw: Database, busyTimeoutMs: number, work: () => Promise<T>): Promise<T> {
  raw.pragma('busy_timeout = 0');
  try {
    for (const giveUpAt = Date.now() + Math.max(busyTimeoutMs, 30_000); ; ) {
      try {
        raw.exec('BEGIN IMMEDIATE');
        break;
      } catch (error) {
        if ((error as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() > giveUpAt) throw error;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
  } finally {
    raw.pragma(`busy_timeout = ${busyTimeoutMs}`);
  }
  try {
    const value = await work();
    raw.exec('COMMIT');
    return value;
  } catch (error) {
    if (raw.inTransaction) raw.exec('ROLLBACK');
    throw error;
  }
}

/**
 * The embedded store: one SQLite file in WAL mode. The schema is migrated in the background on
 * open; every operation waits for it (`opened()` reports a failure).
 */
export class SqliteStore extends SqlStore {
  static open(options: SqliteStoreOptions = {}): SqliteStore {
    const path = options.path ?? DEFAULT_DB_PATH;
    const memory = path === ':memory:';
    const file = memory ? path : resolve(path);
    if (!memory) mkdirSync(dirname(file), { recursive: true });
    const raw = new BetterSqlite3(file);
    try {
      raw.pragma('journal_mode = WAL');
      // NORMAL in WAL mode survives a process crash (only an OS crash can lose the last commits).
      raw.pragma('synchronous = NORMAL');
      // Savepoints (a group commit's transactions) journal in memory, not in a temporary file.
      raw.pragma('temp_store = MEMORY');
      raw.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
      raw.pragma('foreign_keys = ON');
      for (const pragma of PLANNER_PRAGMAS) raw.pragma(pragma);
    } catch (error) {
      raw.close();
      throw error;
    }
    const checkpointer = memory ? undefined : backgroundCheckpoints(raw, file);
    const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: cachingDatabase(raw) as unknown as Database }) });
    const migrated = holdingWriteLock(raw, Math.trunc(options.busyTimeoutMs ?? 5000), () => migrateToLatest(db, 'sqlite'));
    return new SqliteStore(`sqlite:${file}`, db, sqliteDialect(db, raw, file, checkpointer), migrated, checkpointer);
  }

  private constructor(
    description: string,
    db: Kysely<unknown>,
    dialect: SqlDialect,
    ready: Promise<unknown>,
    private readonly checkpointer: BackgroundCheckpointer | undefined,
  ) {
    super(description, db, dialect, ready);
  }

  /** What the background connection has copied back from the WAL so far; undefined for `:memory:`. */
  walCheckpoints(): CheckpointStats | undefined {
    return this.checkpointer?.stats;
  }

  override async close(): Promise<void> {
    await super.close();
    await this.checkpointer?.close();
  }
}

/** The WAL is copied back by a worker's connection (see BackgroundCheckpointer), SQLite's own way if it cannot run. */
function backgroundCheckpoints(raw: Database, file: string): BackgroundCheckpointer {
  raw.pragma('wal_autocheckpoint = 0');
  return new BackgroundCheckpointer(file, () => {
    if (raw.open) raw.pragma('wal_autocheckpoint = 1000');
  });
}

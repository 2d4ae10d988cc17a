import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import BetterSqlite3, { type Database, type Statement } from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { migrateToLatest } from '../sql/migrations.js';
import { type Executor, type SqlDialect, SqlStore } from '../sql/sql-store.js';

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
 * SQLite's part of the SQL store: one connection, and `BEGIN IMMEDIATE` so a transaction holds the
 * write lock from its first read (a reader that later writes could otherwise lose to another
 * process's writer and fail instead of waiting). Changes are announced in-process after commit.
 */
function sqliteDialect(db: Kysely<unknown>): SqlDialect {
  let emit: (jobId: string) => void = () => {};
  return {
    name: 'sqlite',
    attach: (deliver) => {
      emit = deliver;
    },
    lock: () => sql``,
    notify: async () => {},
    committed: (jobIds) => {
      for (const jobId of jobIds) emit(jobId);
    },
    transaction: <T>(work: (tx: Executor) => Promise<T>) =>
      db.connection().execute(async (connection) => {
        await sql`BEGIN IMMEDIATE`.execute(connection);
        try {
          const value = await work(connection as Executor);
          await sql`COMMIT`.execute(connection);
          return value;
        } catch (error) {
          await sql`ROLLBACK`.execute(connection);
          throw error;
        }
      }),
  };
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
      raw.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
      raw.pragma('foreign_keys = ON');
    } catch (error) {
      raw.close();
      throw error;
    }
    const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: cachingDatabase(raw) as unknown as Database }) });
    return new SqliteStore(`sqlite:${file}`, db, sqliteDialect(db), migrateToLatest(db, 'sqlite'));
  }
}

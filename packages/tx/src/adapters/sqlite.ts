import type { Database } from 'better-sqlite3';
import type { Driver, QueryResult } from './driver.js';
import { Mutex } from './mutex.js';

export interface SqliteDriverOptions {
  /** Opens one handle on the database file, e.g. `() => new Database(file)`. */
  readonly open: () => Database;
  /** Handles for transactions (readers run in parallel under WAL; writers take turns). Default 4. */
  readonly connections?: number;
  /**
   * SQLite's busy_timeout. better-sqlite3 waits synchronously, blocking the event loop, so the
   * default is 0: writers of this process take turns on an async lock instead, and contention with
   * other processes surfaces as SQLITE_BUSY, which `retry` handles with backoff.
   */
  readonly busyTimeoutMs?: number;
}

interface HandleState {
  unlock?: () => void;
  queryOnly: boolean;
}

/**
 * Driver over better-sqlite3. Write transactions use BEGIN IMMEDIATE, so they take the write lock
 * up front instead of failing at their first write with SQLITE_BUSY after reading; read-only ones
 * use a deferred BEGIN under `PRAGMA query_only`. `db()` outside a transaction yields a separate
 * autocommit handle.
 */
export function sqliteDriver(options: SqliteDriverOptions): Driver<Database, Database> {
  if (options === null || typeof options !== 'object' || typeof options.open !== 'function') {
    throw new TypeError('sqliteDriver(options): options.open must be a function returning a better-sqlite3 Database');
  }
  const size = options.connections ?? 4;
  if (!Number.isInteger(size) || size < 1)
    throw new TypeError(`sqliteDriver options.connections must be a positive integer, got ${String(size)}`);
  const busy = options.busyTimeoutMs ?? 0;
  if (!Number.isInteger(busy) || busy < 0)
    throw new TypeError(`sqliteDriver options.busyTimeoutMs must be an integer >= 0, got ${String(busy)}`);

  const open = (): Database => {
    const db = options.open();
    db.pragma('journal_mode = WAL');
    db.pragma(`busy_timeout = ${busy}`);
    return db;
  };
  const writer = new Mutex();
  const state = new WeakMap<Database, HandleState>();
  const autocommit = open();
  const free: Database[] = [];
  const waiting: Array<(db: Database) => void> = [];
  let created = 0;
  let out = 0;
  let closed = false;

  const stateOf = (db: Database): HandleState => {
    let s = state.get(db);
    if (!s) {
      s = { queryOnly: false };
      state.set(db, s);
    }
    return s;
  };
  const finish = (db: Database, sql: string) => {
    const s = stateOf(db);
    try {
      if (db.inTransaction || sql !== 'ROLLBACK') db.exec(sql);
    } finally {
      if (s.queryOnly && db.open) db.pragma('query_only = 0');
      s.queryOnly = false;
      if (!db.inTransaction) {
        s.unlock?.();
        s.unlock = undefined;
      }
    }
  };
  const handOut = (db: Database) => {
    const next = waiting.shift();
    if (next) next(db);
    else free.push(db);
  };

  return {
    dialect: 'sqlite',
    pool: autocommit,
    maxConnections: size,
    get checkedOut() {
      return out;
    },
    singleWriter: true,
    acquire() {
      if (closed) return Promise.reject(new Error('sqliteDriver is closed'));
      out += 1;
      const db = free.pop();
      if (db) return Promise.resolve(db);
      if (created < size) {
        created += 1;
        return Promise.resolve(open());
      }
      return new Promise((resolve) => waiting.push(resolve));
    },
    async release(db, discard) {
      out -= 1;
      const s = stateOf(db);
      s.unlock?.();
      s.unlock = undefined;
      if (!discard && db.open && !db.inTransaction) return handOut(db);
      if (db.open) db.close();
      if (closed) return;
      handOut(open());
    },
    async begin(db, spec) {
      const s = stateOf(db);
      if (spec.readOnly) {
        db.pragma('query_only = 1');
        s.queryOnly = true;
        db.exec('BEGIN DEFERRED');
        return;
      }
      s.unlock = await writer.lock();
      try {
        db.exec('BEGIN IMMEDIATE');
      } catch (error) {
        s.unlock();
        s.unlock = undefined;
        throw error;
      }
    },
    commit: async (db) => finish(db, 'COMMIT'),
    rollback: async (db) => finish(db, 'ROLLBACK'),
    savepoint: async (db, name) => void db.exec(`SAVEPOINT ${name}`),
    releaseSavepoint: async (db, name) => void db.exec(`RELEASE SAVEPOINT ${name}`),
    rollbackToSavepoint: async (db, name) => void db.exec(`ROLLBACK TO SAVEPOINT ${name}`),
    // Statements are synchronous: none can be running when a timer fires. The handle is discarded on release.
    abort: async () => undefined,
    async query<Row>(db: Database, sql: string, params: readonly unknown[] = []): Promise<QueryResult<Row>> {
      const statement = db.prepare(sql);
      if (statement.reader) {
        const rows = statement.all(...params) as Row[];
        return { rows, rowCount: rows.length };
      }
      const { changes, lastInsertRowid } = statement.run(...params);
      return { rows: [], rowCount: changes, insertId: lastInsertRowid };
    },
    placeholder: () => '?',
    quoteIdentifier: (identifier) =>
      identifier
        .split('.')
        .map((part) => `"${part}"`)
        .join('.'),
    isStatementTimeout: () => false,
    async close() {
      closed = true;
      for (const db of free.splice(0)) db.close();
      autocommit.close();
    },
  };
}

import Database from 'better-sqlite3';
import * as mysql2 from 'mysql2/promise';
import pg from 'pg';
import type { Isolation } from '../../../src/index.js';
import type { Kind } from '../databases.js';

export type Rows = Map<number, number>;

/** What one statement produced. */
export interface Output {
  readonly rows?: Rows;
  readonly affected?: number;
  /** PostgreSQL answers COMMIT in a failed transaction with ROLLBACK instead of an error. */
  readonly rolledBack?: boolean;
}

/** One raw connection, as a person at a psql or mysql prompt would use it. */
export interface Session {
  /** What the lock monitor knows the connection by (backend pid, thread id). */
  readonly id: number;
  exec(sql: string): Promise<Output>;
  close(): Promise<void>;
}

/** Levels the matrix covers; REPEATABLE_READ+SI is MariaDB's innodb_snapshot_isolation=ON. */
export type Level = Isolation | 'REPEATABLE_READ+SI';

/** Reports which of the given sessions wait for a lock right now. */
export interface Monitor {
  /** How long to wait between two questions to `waiting`. */
  readonly pollMs: number;
  waiting(ids: readonly number[]): Promise<Set<number>>;
  /** Autocommit statements for setup and the final read. */
  exec(sql: string): Promise<Output>;
  close(): Promise<void>;
}

function rowsOf(list: unknown): Rows {
  const rows: Rows = new Map();
  for (const row of list as Array<{ id: unknown; value: unknown }>) rows.set(Number(row.id), Number(row.value));
  return rows;
}

export async function pgSession(url: string): Promise<Session> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  // Bounds any wait the script did not expect, instead of hanging the suite.
  await client.query("SET lock_timeout = '10s'");
  const { rows } = await client.query('SELECT pg_backend_pid() AS pid');
  return {
    id: Number(rows[0].pid),
    async exec(sql) {
      const result = await client.query(sql);
      if (result.command === 'SELECT') return { rows: rowsOf(result.rows) };
      if (result.command === 'ROLLBACK' && /^commit/i.test(sql)) return { rolledBack: true };
      return { affected: result.rowCount ?? 0 };
    },
    close: () => client.end(),
  };
}

export async function pgMonitor(url: string): Promise<Monitor> {
  const session = new pg.Client({ connectionString: url });
  session.on('error', () => undefined);
  await session.connect();
  return {
    pollMs: 5,
    async waiting(ids) {
      // pg_blocking_pids empties the moment the blocker commits, even before the waiter wakes up.
      const { rows } = await session.query('SELECT pid FROM unnest($1::int[]) AS pid WHERE cardinality(pg_blocking_pids(pid)) > 0', [ids]);
      return new Set(rows.map((r: { pid: number }) => Number(r.pid)));
    },
    async exec(sql) {
      const result = await session.query(sql);
      return result.command === 'SELECT' ? { rows: rowsOf(result.rows) } : { affected: result.rowCount ?? 0 };
    },
    close: () => session.end(),
  };
}

async function mysqlConnection(url: string) {
  const connection = await mysql2.createConnection({ uri: url });
  await connection.query('SET SESSION innodb_lock_wait_timeout = 10');
  return connection;
}

function mysqlOutput(result: unknown): Output {
  return Array.isArray(result) ? { rows: rowsOf(result) } : { affected: (result as mysql2.ResultSetHeader).affectedRows };
}

export async function mysqlSession(url: string): Promise<Session> {
  const connection = await mysqlConnection(url);
  return {
    id: connection.threadId,
    async exec(sql) {
      const [result] = await connection.query(sql);
      return mysqlOutput(result);
    },
    close: () => connection.end(),
  };
}

export async function mysqlMonitor(url: string): Promise<Monitor> {
  const connection = await mysqlConnection(url);
  return {
    // InnoDB refreshes its INFORMATION_SCHEMA transaction cache only when nobody read it for 100 ms:
    // polling faster would read the same stale snapshot forever.
    pollMs: 110,
    async waiting(ids) {
      const [rows] = await connection.query(
        "SELECT trx_mysql_thread_id AS id FROM information_schema.innodb_trx WHERE trx_state = 'LOCK WAIT'",
      );
      const set = new Set((rows as Array<{ id: number }>).map((r) => Number(r.id)));
      return new Set(ids.filter((id) => set.has(id)));
    },
    async exec(sql) {
      const [result] = await connection.query(sql);
      return mysqlOutput(result);
    },
    close: () => connection.end(),
  };
}

let sqliteIds = 0;

/** busy_timeout 0: SQLite never waits, a conflicting statement fails with SQLITE_BUSY at once. */
export function sqliteSession(file: string): Session {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 0');
  sqliteIds += 1;
  return {
    id: sqliteIds,
    async exec(sql) {
      const statement = db.prepare(sql);
      if (statement.reader) return { rows: rowsOf(statement.all()) };
      return { affected: statement.run().changes };
    },
    close: async () => void db.close(),
  };
}

export function sqliteMonitor(file: string): Monitor {
  const session = sqliteSession(file);
  return { pollMs: 5, waiting: async () => new Set(), exec: (sql) => session.exec(sql), close: () => session.close() };
}

/** The statements that open a transaction at `level` on a fresh or idle session. */
export function beginSql(kind: Kind, level: Level): string[] {
  const sql = level === 'REPEATABLE_READ+SI' ? 'REPEATABLE READ' : level.replace('_', ' ');
  if (kind === 'postgres') return [`BEGIN ISOLATION LEVEL ${sql}`];
  if (kind === 'mariadb') {
    const snapshot = `SET SESSION innodb_snapshot_isolation = ${level === 'REPEATABLE_READ+SI' ? 'ON' : 'OFF'}`;
    return [snapshot, `SET SESSION TRANSACTION ISOLATION LEVEL ${sql}`, 'BEGIN'];
  }
  return ['BEGIN'];
}

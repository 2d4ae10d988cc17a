import type { Isolation } from '../core/options.js';
import type { Dialect } from '../core/retry.js';

export interface QueryResult<Row = Record<string, unknown>> {
  readonly rows: Row[];
  /** Rows returned by a query, or rows changed by a write. */
  readonly rowCount: number;
  /** The generated key of an INSERT (MariaDB/MySQL insertId, SQLite rowid); PostgreSQL uses RETURNING instead. */
  readonly insertId?: number | bigint;
}

export interface BeginSpec {
  readonly isolation: Isolation | undefined;
  readonly readOnly: boolean;
  readonly timeoutMs: number | undefined;
}

/**
 * What the manager needs from a database driver. `Connection` is the driver's own connection
 * type (pg PoolClient, mysql2 PoolConnection, better-sqlite3 Database), `Pool` what `db()` returns
 * outside a transaction. Adapters hold no transaction logic: that lives in the manager and core/.
 */
export interface Driver<Connection = unknown, Pool = unknown> {
  readonly dialect: Dialect;
  readonly pool: Pool;
  /** Connections the pool hands out at most. */
  readonly maxConnections: number;
  /** Connections checked out through this driver right now. */
  readonly checkedOut: number;
  /** One write transaction at a time for the whole database (SQLite). */
  readonly singleWriter: boolean;
  acquire(): Promise<Connection>;
  /** `discard` closes the connection instead of returning it (after a timeout or a failed rollback). */
  release(connection: Connection, discard: boolean): Promise<void>;
  begin(connection: Connection, spec: BeginSpec): Promise<void>;
  commit(connection: Connection): Promise<void>;
  rollback(connection: Connection): Promise<void>;
  savepoint(connection: Connection, name: string): Promise<void>;
  releaseSavepoint(connection: Connection, name: string): Promise<void>;
  rollbackToSavepoint(connection: Connection, name: string): Promise<void>;
  /** Best effort: stop the statement running on the connection, which is then discarded. */
  abort(connection: Connection): Promise<void>;
  query<Row = Record<string, unknown>>(target: Connection | Pool, sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>>;
  /** The parameter marker for the 1-based position. */
  placeholder(position: number): string;
  quoteIdentifier(identifier: string): string;
  /** The error a statement timeout raises. */
  isStatementTimeout(error: unknown): boolean;
  /** Closes the pool (and for SQLite every handle). */
  close(): Promise<void>;
}

export const ISOLATION_SQL: Record<Isolation, string> = {
  READ_UNCOMMITTED: 'READ UNCOMMITTED',
  READ_COMMITTED: 'READ COMMITTED',
  REPEATABLE_READ: 'REPEATABLE READ',
  SERIALIZABLE: 'SERIALIZABLE',
};

/** Counts connections checked out through an adapter. */
export class Checkouts {
  #count = 0;
  get count(): number {
    return this.#count;
  }
  taken(): void {
    this.#count += 1;
  }
  returned(): void {
    this.#count -= 1;
  }
}

import type { Pool, PoolConnection, ResultSetHeader } from 'mysql2/promise';
import { UnexpectedRollbackError } from '../core/errors.js';
import { Checkouts, type Driver, ISOLATION_SQL, type QueryResult } from './driver.js';

export interface MysqlDriverOptions {
  /** MariaDB limits statements with max_statement_time (seconds), MySQL with max_execution_time (ms, SELECT only). */
  readonly flavor?: 'mariadb' | 'mysql';
}

const UNKNOWN_SYSTEM_VARIABLE = 1193;

/** Driver over a mysql2 promise Pool. `db()` yields the transaction's PoolConnection, or the Pool. */
export function mysqlDriver(pool: Pool, options: MysqlDriverOptions = {}): Driver<PoolConnection, Pool> {
  if (pool === null || typeof pool !== 'object' || typeof (pool as Pool).getConnection !== 'function') {
    throw new TypeError('mysqlDriver(pool): pool must be a mysql2/promise Pool');
  }
  const flavor = options.flavor ?? 'mariadb';
  if (flavor !== 'mariadb' && flavor !== 'mysql')
    throw new TypeError(`mysqlDriver options.flavor must be "mariadb" or "mysql", got ${String(flavor)}`);
  const checkouts = new Checkouts();
  const timed = new WeakSet<PoolConnection>();
  const limit = (pool.pool.config as { connectionLimit?: number }).connectionLimit ?? 10;
  const timeoutVariable = flavor === 'mariadb' ? 'max_statement_time' : 'max_execution_time';

  const exec = async (connection: PoolConnection, sql: string) => {
    await connection.query(sql);
  };
  // The session keeps its statement limit after the transaction; restore it before the pool reuses the connection.
  const end = async (connection: PoolConnection, sql: string) => {
    try {
      await exec(connection, sql);
    } finally {
      // A connection that cannot run this is broken; its own error (above) is the one worth reporting.
      if (timed.delete(connection)) await exec(connection, `SET SESSION ${timeoutVariable} = DEFAULT`).catch(() => undefined);
    }
  };
  // MySQL has no @@in_transaction; a MySQL server driven with the default flavor skips the check.
  let canAskOpen = true;
  const transactionOpen = async (connection: PoolConnection): Promise<boolean | undefined> => {
    try {
      const [rows] = await connection.query('SELECT @@in_transaction AS open');
      return Number((rows as Array<{ open?: unknown }>)[0]?.open) === 1;
    } catch (error) {
      if ((error as { errno?: unknown }).errno === UNKNOWN_SYSTEM_VARIABLE) return undefined;
      throw error;
    }
  };
  return {
    dialect: 'mysql',
    pool,
    maxConnections: limit,
    get checkedOut() {
      return checkouts.count;
    },
    singleWriter: false,
    async acquire() {
      const connection = await pool.getConnection();
      checkouts.taken();
      return connection;
    },
    async release(connection, discard) {
      checkouts.returned();
      if (discard) connection.destroy();
      else connection.release();
    },
    async begin(connection, spec) {
      if (spec.timeoutMs !== undefined) {
        const value = flavor === 'mariadb' ? spec.timeoutMs / 1000 : spec.timeoutMs;
        await exec(connection, `SET SESSION ${timeoutVariable} = ${value}`);
        timed.add(connection);
      }
      // SET TRANSACTION (no SESSION) applies to the next transaction only, so the pooled session keeps its default.
      if (spec.isolation !== undefined) await exec(connection, `SET TRANSACTION ISOLATION LEVEL ${ISOLATION_SQL[spec.isolation]}`);
      await exec(connection, spec.readOnly ? 'START TRANSACTION READ ONLY' : 'START TRANSACTION READ WRITE');
    },
    async commit(connection) {
      // InnoDB ends the whole transaction on a deadlock (1213); if the code caught that error, later
      // statements ran in autocommit mode and COMMIT would succeed with nothing of the transaction left.
      if (flavor === 'mariadb' && canAskOpen) {
        const open = await transactionOpen(connection);
        if (open === undefined) canAskOpen = false;
        else if (!open) {
          await end(connection, 'ROLLBACK');
          throw new UnexpectedRollbackError(
            'MariaDB had ended the transaction before COMMIT: a deadlock rolled it back and the error was caught ' +
              '(or a statement with an implicit commit, such as DDL, ended it); statements after that ran in autocommit mode',
          );
        }
      }
      await end(connection, 'COMMIT');
    },
    rollback: (connection) => end(connection, 'ROLLBACK'),
    savepoint: (connection, name) => exec(connection, `SAVEPOINT ${name}`),
    releaseSavepoint: (connection, name) => exec(connection, `RELEASE SAVEPOINT ${name}`),
    rollbackToSavepoint: (connection, name) => exec(connection, `ROLLBACK TO SAVEPOINT ${name}`),
    async abort(connection) {
      // KILL QUERY through the pool: the stuck connection cannot take another statement.
      await pool.query(`KILL QUERY ${Number(connection.connection.threadId)}`);
    },
    async query<Row>(target: PoolConnection | Pool, sql: string, params: readonly unknown[] = []): Promise<QueryResult<Row>> {
      const [result] = await target.query(sql, params as unknown[]);
      if (Array.isArray(result)) return { rows: result as Row[], rowCount: result.length };
      const header = result as ResultSetHeader;
      return { rows: [], rowCount: header.affectedRows, insertId: header.insertId };
    },
    placeholder: () => '?',
    quoteIdentifier: (identifier) =>
      identifier
        .split('.')
        .map((part) => `\`${part}\``)
        .join('.'),
    isStatementTimeout: (error) => {
      const errno = (error as { errno?: unknown } | null)?.errno;
      return errno === 1969 || errno === 3024;
    },
    close: () => pool.end(),
  };
}

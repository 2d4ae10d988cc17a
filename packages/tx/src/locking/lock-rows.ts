import { IllegalTransactionStateError } from '../core/errors.js';
import type { TransactionManager } from '../manager/manager.js';
import { checkIdentifier } from './identifiers.js';
import { lockOrder, type RowId } from './order.js';

export interface LockRowsOptions {
  /** Fail at once (PostgreSQL 55P03, MariaDB 1205) instead of waiting for a lock another transaction holds. */
  readonly nowait?: boolean;
  /** Return only the rows no one else holds (work-queue style). */
  readonly skipLocked?: boolean;
  readonly idColumn?: string;
}

/**
 * SELECT ... FOR UPDATE on the rows with these ids, in ascending id order: transactions that lock
 * overlapping sets this way cannot deadlock on them. Needs a running transaction (a lock outside
 * one would be released at once). On SQLite the write transaction already holds the database lock,
 * so this only reads the rows. Returns the locked rows in id order.
 */
export async function lockRows<Row = Record<string, unknown>>(
  tm: TransactionManager<unknown, unknown>,
  table: string,
  ids: readonly RowId[],
  options: LockRowsOptions = {},
): Promise<Row[]> {
  checkIdentifier(table, 'lockRows table');
  const idColumn = checkIdentifier(options.idColumn ?? 'id', 'lockRows options.idColumn');
  if (!Array.isArray(ids)) throw new TypeError('lockRows ids must be an array');
  ids.forEach((id, index) => {
    if (!['string', 'number', 'bigint'].includes(typeof id))
      throw new TypeError(`lockRows ids[${index}] must be a string, number or bigint`);
  });
  if (options.nowait && options.skipLocked) throw new TypeError('lockRows options: nowait and skipLocked exclude each other');
  const info = tm.current();
  if (info === undefined) throw new IllegalTransactionStateError('lockRows needs a running transaction');
  if (info.readOnly) throw new IllegalTransactionStateError('lockRows needs a read-write transaction');
  const ordered = lockOrder(ids);
  if (ordered.length === 0) return [];
  const driver = tm.driver;
  const q = (name: string) => driver.quoteIdentifier(name);
  const list = ordered.map((_, i) => driver.placeholder(i + 1)).join(', ');
  let sql = `SELECT * FROM ${q(table)} WHERE ${q(idColumn)} IN (${list}) ORDER BY ${q(idColumn)}`;
  if (driver.dialect !== 'sqlite') sql += ` FOR UPDATE${options.nowait ? ' NOWAIT' : options.skipLocked ? ' SKIP LOCKED' : ''}`;
  const result = await tm.execute<Row>(sql, ordered);
  return result.rows;
}

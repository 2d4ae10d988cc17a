import { OptimisticLockError } from '../core/errors.js';
import type { TransactionManager } from '../manager/manager.js';
import { checkIdentifier } from './identifiers.js';
import type { RowId } from './order.js';

export interface VersionedUpdate {
  readonly table: string;
  readonly id: RowId;
  /** The version the caller read. */
  readonly version: number;
  /** Columns to set; the version column is incremented on top. */
  readonly set: Readonly<Record<string, unknown>>;
  readonly idColumn?: string;
  readonly versionColumn?: string;
}

/**
 * Optimistic locking: `UPDATE ... SET ..., version = version + 1 WHERE id = ? AND version = ?`.
 * No matching row means someone changed the row since it was read: OptimisticLockError, which the
 * manager's `retry` treats as retryable. Returns the new version.
 */
export async function updateWithVersion(tm: TransactionManager<unknown, unknown>, update: VersionedUpdate): Promise<number> {
  if (update === null || typeof update !== 'object') throw new TypeError('updateWithVersion(update): update must be an object');
  const table = checkIdentifier(update.table, 'updateWithVersion table');
  const idColumn = checkIdentifier(update.idColumn ?? 'id', 'updateWithVersion idColumn');
  const versionColumn = checkIdentifier(update.versionColumn ?? 'version', 'updateWithVersion versionColumn');
  if (!Number.isInteger(update.version)) throw new TypeError(`updateWithVersion version must be an integer, got ${String(update.version)}`);
  if (!['string', 'number', 'bigint'].includes(typeof update.id))
    throw new TypeError('updateWithVersion id must be a string, number or bigint');
  if (update.set === null || typeof update.set !== 'object')
    throw new TypeError('updateWithVersion set must be an object of column values');
  const columns = Object.keys(update.set);
  columns.forEach((column) => {
    checkIdentifier(column, `updateWithVersion set.${column}`);
    if (column === versionColumn || column === idColumn)
      throw new TypeError(`updateWithVersion set.${column}: the ${column} column is managed by updateWithVersion`);
  });
  const driver = tm.driver;
  const q = (name: string) => driver.quoteIdentifier(name);
  const assignments = columns.map((column, i) => `${q(column)} = ${driver.placeholder(i + 1)}`);
  assignments.push(`${q(versionColumn)} = ${q(versionColumn)} + 1`);
  const n = columns.length;
  const sql = `UPDATE ${q(table)} SET ${assignments.join(', ')} WHERE ${q(idColumn)} = ${driver.placeholder(n + 1)} AND ${q(versionColumn)} = ${driver.placeholder(n + 2)}`;
  const result = await tm.execute(sql, [...columns.map((c) => update.set[c]), update.id, update.version]);
  if (result.rowCount === 0) throw new OptimisticLockError(table, update.id, update.version);
  return update.version + 1;
}

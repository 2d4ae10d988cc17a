import { checkIdentifier } from '../locking/identifiers.js';
import type { TransactionManager } from '../manager/manager.js';

/** A held distributed lock. `token` grows with every acquisition of the same name. */
export interface Lease {
  readonly name: string;
  /** The fencing token: hand it to every write the lock protects (fencedUpdate). */
  readonly token: number;
  release(): Promise<void>;
}

export interface DistributedLock {
  /** Waits at most `waitMs` (default 0: one try); undefined when someone else holds it. */
  acquire(name: string, options?: { waitMs?: number }): Promise<Lease | undefined>;
}

/** The protected write carried a token older than one already seen: its holder lost the lock meanwhile. */
export class StaleTokenError extends Error {
  constructor(
    readonly table: string,
    readonly id: unknown,
    readonly token: number,
  ) {
    super(`fenced write to ${table} id=${String(id)} refused: token ${token} is older than the last writer's; the lock was lost`);
    this.name = 'StaleTokenError';
  }
}

export function checkLockName(name: unknown): string {
  if (typeof name !== 'string' || !/^[A-Za-z0-9_.:/-]{1,200}$/.test(name))
    throw new TypeError(`lock name must be 1-200 letters, digits or _.:/-, got ${JSON.stringify(name)}`);
  return name;
}

/**
 * The protected write: `UPDATE table SET ..., fence = token WHERE id = ? AND (fence IS NULL OR fence <= token)`.
 * A holder that paused past its lock (GC, partition, lease expiry) writes with an old token and is
 * refused, whatever its own clock says: the storage, not the lock, has the last word.
 */
export async function fencedUpdate(
  tm: TransactionManager<unknown, unknown>,
  update: {
    table: string;
    id: string | number;
    token: number;
    set: Readonly<Record<string, unknown>>;
    idColumn?: string;
    fenceColumn?: string;
  },
): Promise<void> {
  const table = checkIdentifier(update.table, 'fencedUpdate table');
  const idColumn = checkIdentifier(update.idColumn ?? 'id', 'fencedUpdate idColumn');
  const fence = checkIdentifier(update.fenceColumn ?? 'fence_token', 'fencedUpdate fenceColumn');
  if (!Number.isSafeInteger(update.token) || update.token < 1) throw new TypeError('fencedUpdate token must be a positive integer');
  const columns = Object.keys(update.set ?? {});
  if (columns.length === 0) throw new TypeError('fencedUpdate set must name at least one column');
  const d = tm.driver;
  const q = (name: string) => d.quoteIdentifier(checkIdentifier(name, `fencedUpdate set.${name}`));
  const assignments = columns.map((c, i) => `${q(c)} = ${d.placeholder(i + 1)}`);
  const n = columns.length;
  const sql =
    `UPDATE ${q(table)} SET ${assignments.join(', ')}, ${q(fence)} = ${d.placeholder(n + 1)} ` +
    `WHERE ${q(idColumn)} = ${d.placeholder(n + 2)} AND (${q(fence)} IS NULL OR ${q(fence)} <= ${d.placeholder(n + 3)})`;
  const { rowCount } = await tm.execute(sql, [...columns.map((c) => update.set[c]), update.token, update.id, update.token]);
  if (rowCount === 0) throw new StaleTokenError(table, update.id, update.token);
}

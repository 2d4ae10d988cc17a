import type { TransactionManager } from '../manager/manager.js';

/**
 * A stand-in for the driver client Drizzle takes (`drizzle({ client })` from drizzle-orm/node-postgres,
 * /mysql2 or /better-sqlite3) that forwards every call to `tm.db()` at the moment of the call: the
 * connection of the transaction the caller runs in, or the pool (SQLite: the autocommit handle)
 * outside one. So Drizzle queries inside `tm.run` take part in its propagation. Drizzle's own
 * `db.transaction()` must not be used with it: it would BEGIN on whatever `tm.db()` is.
 *
 * Needs no Drizzle import: the client is the driver's own shape.
 */
export function drizzleClient<C, P>(tm: TransactionManager<C, P>): C | P {
  const candidate = tm as Partial<TransactionManager<C, P>> | null;
  if (candidate === null || typeof candidate !== 'object' || typeof candidate.db !== 'function')
    throw new TypeError('drizzleClient(tm): expected a TransactionManager from @myrmex/tx');
  return new Proxy(Object.create(null) as object, {
    get(_, property) {
      // Drizzle calls promise() on a callback-style mysql2 client; the promise API is what tm.db() already is.
      if (property === 'promise') return undefined;
      const target = tm.db() as Record<PropertyKey, unknown>;
      const value = target[property];
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
    has(_, property) {
      // Drizzle's mysql2 session treats a client with getConnection as a pool and checks one out,
      // which would leave the transaction: present the transaction's connection shape instead.
      if (property === 'getConnection' || property === 'connect') return false;
      return property in (tm.db() as object);
    },
  }) as C | P;
}

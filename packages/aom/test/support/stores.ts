import { type FreshDatabase, freshAll, type PostgresGate } from '@myrmex/test-utils';
import { MemoryAomStore } from '../../src/index.js';
import { PostgresAomStore } from '../../src/store/postgres.js';
import { SqliteAomStore } from '../../src/store/sqlite.js';
import type { StoreFactory } from './store-contract.js';

export const memoryStore: StoreFactory = async () => {
  const store = new MemoryAomStore();
  await store.init();
  return { store, dispose: () => store.close() };
};

export const sqliteStore: StoreFactory = async () => {
  const store = new SqliteAomStore({ filename: ':memory:' });
  await store.init();
  return { store, dispose: () => store.close() };
};

let tables = 0;

/**
 * Inside a gated describe: one fresh database for the suite, and fresh tables (a new prefix)
 * for every store made, so property runs do not see each other's rows.
 */
export function postgresStores(pg: PostgresGate): StoreFactory {
  const db = freshAll<FreshDatabase>(() => pg.freshDatabase());
  return async () => {
    tables += 1;
    const store = new PostgresAomStore({ connectionString: db.current.url, tablePrefix: `t${tables}_` });
    await store.init();
    return { store, dispose: () => store.close() };
  };
}

import { postgres } from '@myrmex/test-utils';
import { describe } from 'vitest';
import { storeContract } from './support/store-contract.js';
import { memoryStore, postgresStores, sqliteStore } from './support/stores.js';

const pg = await postgres();

describe('store contract: memory', () => storeContract(memoryStore, { propertyRuns: 100 }));
describe('store contract: SQLite (JSON1)', () => storeContract(sqliteStore, { propertyRuns: 100 }));
pg.describe('store contract: PostgreSQL (jsonb)', () => storeContract(postgresStores(pg), { propertyRuns: 40 }));

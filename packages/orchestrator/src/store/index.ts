export { MIGRATIONS, type Migration, migrate } from './sqlite/migrations.js';
export { DEFAULT_DB_PATH, SqliteStore, type SqliteStoreOptions } from './sqlite/sqlite-store.js';
export * from './store.js';

export { openStore, openStoreSync, parseStoreUrl, type StoreLocation } from './open.js';
export { CHANGE_CHANNEL, PostgresStore, type PostgresStoreOptions } from './postgres/postgres-store.js';
export { resealSecrets, secretContext, storeSecretSource } from './secret-source.js';
export * from './security.js';
export { MIGRATION_NAMES, migrateToLatest } from './sql/migrations.js';
export { checkOrgQuota, SqlSecurityStore } from './sql/security.js';
export { SqlStore } from './sql/sql-store.js';
export { DEFAULT_DB_PATH, SqliteStore, type SqliteStoreOptions } from './sqlite/sqlite-store.js';
export * from './store.js';

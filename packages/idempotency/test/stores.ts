import type { IdempotencyStore } from '@myrmex/idempotency';
import { PostgresStore } from '@myrmex/idempotency/postgres';
import { RedisStore } from '@myrmex/idempotency/redis';
import { SqliteStore } from '@myrmex/idempotency/sqlite';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import pg from 'pg';

/** A store on a real backend plus what tears it down. */
export interface OpenStore<S extends IdempotencyStore = IdempotencyStore> {
  readonly store: S;
  dispose(): Promise<void>;
}

export function openSqlite(path = ':memory:'): OpenStore<SqliteStore> & { database: Database.Database } {
  const database = new Database(path);
  database.pragma('journal_mode = WAL');
  database.pragma('busy_timeout = 5000');
  return {
    store: new SqliteStore({ database }),
    database,
    dispose: async () => {
      database.close();
    },
  };
}

export async function openPostgres(url: string, poolSize = 10): Promise<OpenStore<PostgresStore> & { pool: pg.Pool }> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  // An idle connection cut by the database's drop at the end of a test is not a test failure.
  pool.on('error', () => undefined);
  const store = new PostgresStore({ pool });
  await store.ensureSchema();
  return { store, pool, dispose: () => pool.end() };
}

export function openRedis(url: string, prefix: string): OpenStore<RedisStore> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  return {
    store: new RedisStore({ client, prefix }),
    dispose: async () => {
      await client.quit();
    },
  };
}

import { basename, dirname, extname, join } from 'node:path';
import { type IdempotencyStore, startSweeper } from '@myrmex/idempotency';
import { PostgresStore } from '@myrmex/idempotency/postgres';
import { SqliteStore } from '@myrmex/idempotency/sqlite';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { Logger } from 'pino';

export interface IdempotencyFile {
  readonly path: string;
  readonly store: IdempotencyStore;
  close(): void | Promise<void>;
}

/** `.myrmex/myrmex.db` -> `.myrmex/myrmex-idempotency.db`: next to the queen's store, never inside it. */
export function idempotencyPathFor(dbPath: string): string {
  const extension = extname(dbPath);
  return join(dirname(dbPath), `${basename(dbPath, extension)}-idempotency${extension || '.db'}`);
}

/**
 * Idempotency-Key records in their own SQLite file, so their writes never queue behind the
 * queen's transactions; expired keys (24 h) are swept every minute.
 */
export function openIdempotencyFile(dbPath: string, logger: Logger): IdempotencyFile {
  const path = idempotencyPathFor(dbPath);
  const database = new Database(path);
  database.pragma('journal_mode = WAL');
  database.pragma('busy_timeout = 5000');
  const store = new SqliteStore({ database });
  const sweeper = startSweeper({ store, intervalMs: 60_000, logger });
  return {
    path,
    store,
    close: () => {
      sweeper.stop();
      database.close();
    },
  };
}

/**
 * Idempotency-Key records in the queens' PostgreSQL database (their own table), so a retried
 * submission is recognised by whichever queen it reaches.
 */
export async function openIdempotencyPostgres(url: string, logger: Logger): Promise<IdempotencyFile> {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  pool.on('error', () => undefined);
  const store = new PostgresStore({ pool });
  const client = await pool.connect();
  try {
    // Queens starting together create the table once.
    await client.query('SELECT pg_advisory_lock(7070011)');
    try {
      await store.ensureSchema();
    } finally {
      await client.query('SELECT pg_advisory_unlock(7070011)');
    }
  } finally {
    client.release();
  }
  const sweeper = startSweeper({ store, intervalMs: 60_000, logger });
  return {
    path: url,
    store,
    close: async () => {
      sweeper.stop();
      await pool.end();
    },
  };
}

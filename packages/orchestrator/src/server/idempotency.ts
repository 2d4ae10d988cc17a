import { basename, dirname, extname, join } from 'node:path';
import { startSweeper } from '@myrmex/idempotency';
import { SqliteStore } from '@myrmex/idempotency/sqlite';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';

export interface IdempotencyFile {
  readonly path: string;
  readonly store: SqliteStore;
  close(): void;
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

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FreshDatabase, mysql, postgres } from '@myrmex/test-utils';
import Database from 'better-sqlite3';
import * as mysql2 from 'mysql2/promise';
import pg from 'pg';
import { describe } from 'vitest';
import { type ManagerOptions, mysqlDriver, pgDriver, sqliteDriver, TransactionManager } from '../../src/index.js';

export type Kind = 'postgres' | 'mariadb' | 'sqlite';
export type AnyManager = TransactionManager<unknown, unknown>;

/** A database every suite can run against: its gate's describe and a way to make a fresh one. */
export interface Target {
  readonly kind: Kind;
  readonly describe: (name: string, body: () => void) => void;
  readonly fresh: () => Promise<FreshDatabase>;
}

const pgGate = await postgres();
const mysqlGate = await mysql();

export function freshSqliteFile(): Promise<FreshDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'myrmex-tx-'));
  const file = join(dir, 'db.sqlite');
  return Promise.resolve({ name: file, url: file, dispose: async () => rmSync(dir, { recursive: true, force: true }) });
}

export const targets: readonly Target[] = [
  { kind: 'postgres', describe: pgGate.describe, fresh: () => pgGate.freshDatabase() },
  { kind: 'mariadb', describe: mysqlGate.describe, fresh: () => mysqlGate.freshDatabase() },
  { kind: 'sqlite', describe, fresh: freshSqliteFile },
];

export const serverTargets = targets.filter((t) => t.kind !== 'sqlite');

export interface Opened {
  readonly tm: AnyManager;
  close(): Promise<void>;
}

/** A manager over a new pool on the database at `url` (a file path for SQLite). */
export function openManager(kind: Kind, url: string, options: { max?: number; manager?: ManagerOptions } = {}): Opened {
  const max = options.max ?? 4;
  let tm: AnyManager;
  if (kind === 'postgres') {
    const pool = new pg.Pool({ connectionString: url, max });
    pool.on('error', () => undefined);
    tm = new TransactionManager(pgDriver(pool), options.manager) as AnyManager;
  } else if (kind === 'mariadb') {
    tm = new TransactionManager(mysqlDriver(mysql2.createPool({ uri: url, connectionLimit: max })), options.manager) as AnyManager;
  } else {
    tm = new TransactionManager(sqliteDriver({ open: () => new Database(url), connections: max }), options.manager) as AnyManager;
  }
  return { tm, close: () => tm.close() };
}

/** The value of a single-row, single-column query (counts, sums); numeric strings become numbers. */
export async function scalar(tm: AnyManager, sql: string): Promise<number> {
  const { rows } = await tm.execute(sql);
  const value = Object.values(rows[0] ?? {})[0];
  return Number(value);
}

/** SQL for the error a database raises when a read-only transaction writes. */
export function isReadOnlyViolation(kind: Kind, error: unknown): boolean {
  const e = error as { code?: string; errno?: number };
  if (kind === 'postgres') return e.code === '25006';
  if (kind === 'mariadb') return e.errno === 1792;
  return e.code === 'SQLITE_READONLY';
}

export function sleepSql(kind: Kind, seconds: number): string {
  return kind === 'postgres' ? `SELECT pg_sleep(${seconds})` : `SELECT SLEEP(${seconds})`;
}

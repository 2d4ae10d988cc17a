import BetterSqlite3, { type Database } from 'better-sqlite3';
import pg from 'pg';
import { parseStoreUrl } from '../open.js';
import { PostgresStore } from '../postgres/postgres-store.js';
import { SqliteStore } from '../sqlite/sqlite-store.js';
import { StoreError } from '../store.js';
import { batchRows, type CopyPlan, planCopy, type SchemaShape, type TableCopy, type TableShape } from './plan.js';

export interface MigrateStoreOptions {
  /** The SQLite store: a file path or `sqlite:<path>`; it must exist. */
  readonly from: string;
  /** The PostgreSQL store: `postgres://user@host:5432/database`. */
  readonly to: string;
  /** Copy into a target that already holds data (rows with the same key are replaced by the source's). */
  readonly append?: boolean;
  /** Called after each batch and at the end of each table. */
  readonly onProgress?: (progress: CopyProgress) => void;
}

export interface CopyProgress {
  readonly table: string;
  readonly copied: number;
  readonly rows: number;
  /** 1-based position of the table in the plan, and how many tables there are. */
  readonly index: number;
  readonly tables: number;
}

export interface MigrateStoreResult {
  readonly tables: readonly { readonly table: string; readonly rows: number }[];
  readonly rows: number;
}

type Value = string | number | bigint | Buffer | null;
type SourceRow = Record<string, Value>;

const quote = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/**
 * Moves everything a SQLite store holds (definitions, jobs, tasks, attempts, timeline, logs,
 * artifact metadata, approvals, security and tenancy rows, every table of the schema) into a
 * PostgreSQL store. Both are first migrated to this Myrmex's schema. Each table is copied in one
 * transaction of the target, parents before children: a failure leaves the tables before it copied
 * and names the table and row it stopped at; running the command again with `append` finishes the
 * job (rows already there are replaced by the same rows). Stop the queens of both stores first.
 */
export async function migrateStore(options: MigrateStoreOptions): Promise<MigrateStoreResult> {
  const from = parseStoreUrl(options.from, 'from');
  const to = parseStoreUrl(options.to, 'to');
  if (from.kind !== 'sqlite' || to.kind !== 'postgres' || from.path === ':memory:') {
    throw new StoreError(
      `migrate-store moves a SQLite store file to PostgreSQL: --from sqlite:<file> --to postgres://user@host:5432/database (got ${from.kind} -> ${to.kind})`,
    );
  }
  try {
    new BetterSqlite3(from.path, { fileMustExist: true }).close();
  } catch (error) {
    throw new StoreError(`from: cannot open the SQLite store ${from.path}: ${(error as Error).message}`);
  }
  // Both at this Myrmex's schema first, migrated the way each store migrates itself on open.
  await migrated(SqliteStore.open({ path: from.path }), 'from');
  await migrated(PostgresStore.open({ url: to.url }), 'to');
  const source = new BetterSqlite3(from.path, { fileMustExist: true });
  // Integers as written, beyond 2^53 too: they go to PostgreSQL as text.
  source.defaultSafeIntegers(true);
  const pool = new pg.Pool({ connectionString: to.url, max: 1, connectionTimeoutMillis: 5000 });
  pool.on('error', () => undefined);
  try {
    const client = await pool.connect();
    try {
      const plan = planCopy(sqliteShape(source, from.path), await postgresShape(client, to.url), { append: options.append === true });
      return await copyAll(source, client, plan, options.onProgress);
    } finally {
      client.release();
    }
  } finally {
    await pool.end();
    source.close();
  }
}

async function migrated(store: SqliteStore | PostgresStore, field: 'from' | 'to'): Promise<void> {
  try {
    await store.opened();
  } catch (error) {
    throw new StoreError(`${field}: cannot bring ${store.description} to this Myrmex's schema: ${(error as Error).message}`);
  } finally {
    await store.close();
  }
}

function sqliteShape(db: Database, path: string): SchemaShape {
  const names = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).all() as {
    name: string;
  }[];
  const tables = names.map(({ name }): TableShape => {
    const info = db.prepare(`PRAGMA table_info(${quote(name)})`).all() as { name: string; pk: bigint }[];
    const foreign = db.prepare(`PRAGMA foreign_key_list(${quote(name)})`).all() as { table: string }[];
    const count = db.prepare(`SELECT COUNT(*) AS n FROM ${quote(name)}`).get() as { n: bigint };
    return {
      name,
      columns: info.map((c) => c.name),
      key: info
        .filter((c) => Number(c.pk) > 0)
        .sort((a, b) => Number(a.pk) - Number(b.pk))
        .map((c) => c.name),
      references: [...new Set(foreign.map((f) => f.table))],
      identity: [],
      rows: Number(count.n),
    };
  });
  return { description: `the SQLite store ${path}`, tables };
}

async function postgresShape(client: pg.PoolClient, url: string): Promise<SchemaShape> {
  const { rows } = await client.query<{ table_name: string; column_name: string; is_identity: string }>(
    `SELECT table_name, column_name, is_identity FROM information_schema.columns
     WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`,
  );
  const byTable = new Map<string, { columns: string[]; identity: string[] }>();
  for (const row of rows) {
    const table = byTable.get(row.table_name) ?? { columns: [], identity: [] };
    table.columns.push(row.column_name);
    if (row.is_identity === 'YES') table.identity.push(row.column_name);
    byTable.set(row.table_name, table);
  }
  // Primary keys, in key order: a copied row replaces the target's row of the same key (the timeline's
  // differs from SQLite's since migration 0025: (job_id, seq) there, seq here).
  const keys = await client.query<{ table_name: string; column_name: string }>(
    `SELECT c.relname AS table_name, a.attname AS column_name
     FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
     CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k (attnum, n)
     JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
     WHERE i.indisprimary AND c.relnamespace = current_schema()::regnamespace ORDER BY c.relname, k.n`,
  );
  const keyOf = new Map<string, string[]>();
  for (const row of keys.rows) keyOf.set(row.table_name, [...(keyOf.get(row.table_name) ?? []), row.column_name]);
  const tables: TableShape[] = [];
  for (const [name, { columns, identity }] of byTable) {
    const count = await client.query<{ n: string }>(`SELECT COUNT(*) AS n FROM ${quote(name)}`);
    tables.push({ name, columns, key: keyOf.get(name) ?? [], references: [], identity, rows: Number(count.rows[0]!.n) });
  }
  const where = new URL(url);
  return { description: `the PostgreSQL database ${where.hostname}:${where.port || 5432}${where.pathname}`, tables };
}

async function copyAll(
  source: Database,
  target: pg.PoolClient,
  plan: CopyPlan,
  onProgress: MigrateStoreOptions['onProgress'],
): Promise<MigrateStoreResult> {
  const done: { table: string; rows: number }[] = [];
  for (const [i, table] of plan.tables.entries()) {
    const report = (copied: number) =>
      onProgress?.({ table: table.table, copied, rows: table.rows, index: i + 1, tables: plan.tables.length });
    await target.query('BEGIN');
    try {
      const copied = await copyTable(source, target, table, report);
      await target.query('COMMIT');
      done.push({ table: table.table, rows: copied });
    } catch (error) {
      await target.query('ROLLBACK').catch(() => undefined);
      const already = done.length === 0 ? 'no table was copied' : `tables copied before it: ${done.map((d) => d.table).join(', ')}`;
      throw new StoreError(`${(error as Error).message}; nothing of table ${table.table} was written (${already})`);
    }
  }
  return { tables: done, rows: done.reduce((sum, t) => sum + t.rows, 0) };
}

/** Copies one table inside the target's open transaction, in rowid order, a batch per INSERT. */
async function copyTable(source: Database, target: pg.PoolClient, table: TableCopy, report: (copied: number) => void): Promise<number> {
  const columns = table.columns.map(quote).join(', ');
  const page = source.prepare(
    `SELECT rowid AS __myrmex_rowid, ${columns} FROM ${quote(table.table)} WHERE rowid > ? ORDER BY rowid LIMIT ${batchRows(table.columns.length)}`,
  );
  const insert = insertStatement(table);
  let after: bigint = -1n;
  let copied = 0;
  report(0);
  for (;;) {
    const rows = page.all(after) as (SourceRow & { __myrmex_rowid: bigint })[];
    if (rows.length === 0) break;
    after = rows.at(-1)!.__myrmex_rowid;
    await target.query('SAVEPOINT batch');
    try {
      await target.query(
        insert(rows.length),
        rows.flatMap((row) => table.columns.map((c) => toParameter(row[c] ?? null))),
      );
      await target.query('RELEASE SAVEPOINT batch');
    } catch (error) {
      await target.query('ROLLBACK TO SAVEPOINT batch');
      throw await offendingRow(target, table, rows, insert, error);
    }
    copied += rows.length;
    report(copied);
  }
  // The target numbers its next rows after the copied ones.
  for (const column of table.identity) {
    await target.query(
      `SELECT setval(pg_get_serial_sequence($1, $2), (SELECT COALESCE(MAX(${quote(column)}), 0) + 1 FROM ${quote(table.table)}), false)`,
      [quote(table.table), column],
    );
  }
  return copied;
}

/** `INSERT ... VALUES` for n rows: identities written as copied, a row with an existing key replaced. */
function insertStatement(table: TableCopy): (rows: number) => string {
  const names = table.columns.map(quote);
  const overriding = table.identity.length > 0 ? ' OVERRIDING SYSTEM VALUE' : '';
  const updatable = table.columns.filter((c) => !table.key.includes(c) && !table.identity.includes(c));
  const conflict =
    table.key.length === 0
      ? ''
      : ` ON CONFLICT (${table.key.map(quote).join(', ')}) DO ${
          updatable.length === 0 ? 'NOTHING' : `UPDATE SET ${updatable.map((c) => `${quote(c)} = EXCLUDED.${quote(c)}`).join(', ')}`
        }`;
  return (rows) => {
    const values: string[] = [];
    for (let r = 0; r < rows; r++) values.push(`(${names.map((_, c) => `$${r * names.length + c + 1}`).join(', ')})`);
    return `INSERT INTO ${quote(table.table)} (${names.join(', ')})${overriding} VALUES ${values.join(', ')}${conflict}`;
  };
}

function toParameter(value: Value): string | number | Buffer | null {
  return typeof value === 'bigint' ? value.toString() : value;
}

/** The batch failed: finds its first row that fails alone, to name it. */
async function offendingRow(
  target: pg.PoolClient,
  table: TableCopy,
  rows: readonly SourceRow[],
  insert: (rows: number) => string,
  batchError: unknown,
): Promise<StoreError> {
  for (const row of rows) {
    await target.query('SAVEPOINT one');
    try {
      await target.query(
        insert(1),
        table.columns.map((c) => toParameter(row[c] ?? null)),
      );
      await target.query('ROLLBACK TO SAVEPOINT one');
    } catch (error) {
      await target.query('ROLLBACK TO SAVEPOINT one');
      return new StoreError(`table ${table.table}, row ${describeRow(table, row)}: ${(error as Error).message}`);
    }
  }
  return new StoreError(`table ${table.table}: ${(batchError as Error).message}`);
}

function describeRow(table: TableCopy, row: SourceRow): string {
  const shown = table.key.length > 0 ? table.key : table.columns.slice(0, 3);
  return `(${shown.map((c) => `${c}=${String(toParameter(row[c] ?? null))}`).join(', ')})`;
}

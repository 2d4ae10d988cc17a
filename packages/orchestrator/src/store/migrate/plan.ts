import { StoreError } from '../store.js';

/**
 * Moving a store from one database to another (`myrmex migrate-store`): what to copy in which order,
 * decided from the two schemas as read, without touching either. The copy itself is in copy.ts.
 */

/** One table as a database holds it. */
export interface TableShape {
  readonly name: string;
  readonly columns: readonly string[];
  /** The primary key's columns, in key order; empty when the table has none. */
  readonly key: readonly string[];
  /** Tables this one's foreign keys point at. */
  readonly references: readonly string[];
  /** Columns the database numbers itself (PostgreSQL identities): written as copied, then the sequence moved past them. */
  readonly identity: readonly string[];
  readonly rows: number;
}

export interface SchemaShape {
  readonly description: string;
  readonly tables: readonly TableShape[];
}

export interface TableCopy {
  readonly table: string;
  readonly columns: readonly string[];
  readonly key: readonly string[];
  /** Rows to move. */
  readonly rows: number;
  /** Target columns numbered by the database. */
  readonly identity: readonly string[];
}

export interface CopyPlan {
  /** Parents before children, so every foreign key finds its row. */
  readonly tables: readonly TableCopy[];
  /** Target tables that held data before the copy (only with `append`). */
  readonly nonEmpty: readonly string[];
}

/** The migrator's bookkeeping: each database keeps its own. */
const BOOKKEEPING = new Set(['myrmex_migration', 'myrmex_migration_lock']);

/**
 * Rows the schema's migrations write into a new database (the default organisation, the audit
 * chain's head): a target holding only these is empty. The copy replaces them with the source's.
 */
const SEEDED_ROWS: Readonly<Record<string, number>> = { orgs: 1, audit_head: 1 };

export interface PlanOptions {
  /** Copy into a target that already holds data: rows with the same key are replaced by the source's. */
  readonly append?: boolean;
}

/**
 * Which tables to copy, in which order, with which columns. Refuses, naming the table and column,
 * when the two schemas differ (both are migrated to the same version first, so this is a database
 * written by another Myrmex), and refuses a target that already holds data unless `append`.
 */
export function planCopy(source: SchemaShape, target: SchemaShape, options: PlanOptions = {}): CopyPlan {
  const targets = new Map(target.tables.map((t) => [t.name, t]));
  const wanted = source.tables.filter((t) => !BOOKKEEPING.has(t.name));
  for (const table of wanted) {
    const there = targets.get(table.name);
    if (!there) throw new StoreError(`table ${table.name} of ${source.description} does not exist in ${target.description}`);
    const missing = table.columns.filter((c) => !there.columns.includes(c));
    if (missing.length > 0)
      throw new StoreError(
        `table ${table.name}: column ${missing.join(', ')} of ${source.description} does not exist in ${target.description}`,
      );
  }
  const nonEmpty = wanted.filter((t) => (targets.get(t.name)?.rows ?? 0) > (SEEDED_ROWS[t.name] ?? 0)).map((t) => t.name);
  if (nonEmpty.length > 0 && !options.append) {
    throw new StoreError(
      `${target.description} already holds data (${nonEmpty.map((name) => `${name}: ${targets.get(name)!.rows} rows`).join(', ')}); ` +
        'copy into an empty database, or pass --force-append to add to it (rows with the same key are replaced by the source’s)',
    );
  }
  return {
    tables: parentsFirst(wanted).map((table) => ({
      table: table.name,
      columns: table.columns,
      key: keyOf(table, targets.get(table.name)!),
      rows: table.rows,
      identity: targets.get(table.name)!.identity.filter((c) => table.columns.includes(c)),
    })),
    nonEmpty,
  };
}

/**
 * The key a copied row replaces by: the target's primary key when it has one of the copied columns
 * (what its ON CONFLICT can name; PostgreSQL keys the timeline by (job_id, seq), SQLite by seq), else
 * the source's.
 */
function keyOf(source: TableShape, target: TableShape): readonly string[] {
  return target.key.length > 0 && target.key.every((c) => source.columns.includes(c)) ? target.key : source.key;
}

/** Orders tables so each comes after the tables its foreign keys point at; a cycle is an error naming it. */
export function parentsFirst<T extends Pick<TableShape, 'name' | 'references'>>(tables: readonly T[]): T[] {
  const byName = new Map(tables.map((t) => [t.name, t]));
  const ordered: T[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (table: T, path: readonly string[]): void => {
    const seen = state.get(table.name);
    if (seen === 'done') return;
    if (seen === 'visiting') throw new StoreError(`the foreign keys of tables ${[...path, table.name].join(' -> ')} form a cycle`);
    state.set(table.name, 'visiting');
    for (const parent of table.references) {
      const found = byName.get(parent);
      if (found && parent !== table.name) visit(found, [...path, table.name]);
    }
    state.set(table.name, 'done');
    ordered.push(table);
  };
  for (const table of [...tables].sort((a, b) => a.name.localeCompare(b.name))) visit(table, []);
  return ordered;
}

/** How many rows go in one INSERT: both dialects' bound-parameter limits, with room to spare. */
export function batchRows(columns: number): number {
  return Math.max(1, Math.min(1000, Math.floor(30_000 / Math.max(1, columns))));
}

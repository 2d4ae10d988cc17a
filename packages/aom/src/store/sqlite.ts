import Database from 'better-sqlite3';
import type { Condition, SortKey, StoreQuery, ValueClass } from '../query/spec.js';
import type { TypeVersionRecord } from '../schema/definition.js';
import { indexName, sqlName, tablePrefix } from './sql-names.js';
import type { AomStore, EntityRecord, HistoryEntry } from './store.js';

export interface SqliteAomStoreOptions {
  /** A file path, or `:memory:`. Ignored when `database` is given. */
  readonly filename?: string;
  /** An open better-sqlite3 database; the store does not close it. */
  readonly database?: Database.Database;
  /** Prefix of the two tables (default `aom_`). */
  readonly tablePrefix?: string;
  /**
   * Create an expression index the first time a property is filtered or sorted on. Default false:
   * SQLite has no concurrent build, so it would block writers on the request path; `missingIndexes()`
   * lists what queries wanted instead.
   */
  readonly autoIndex?: boolean;
}

const TYPE_TEST: Record<ValueClass, string> = { number: "in ('integer','real')", string: "= 'text'", boolean: "in ('true','false')" };

interface Row {
  id: string;
  type: string;
  type_version: number;
  revision: number;
  data: string;
}

/** The document store on SQLite: values as JSON text, queried with the JSON1 functions. */
export class SqliteAomStore implements AomStore {
  readonly #db: Database.Database;
  readonly #owned: boolean;
  readonly #types: string;
  readonly #entities: string;
  readonly #history: string;
  readonly #prefix: string;
  readonly #autoIndex: boolean;
  readonly #indexed = new Set<string>();
  /** Expression indexes queries would use, by name: what `missingIndexes` checks. */
  readonly #wanted = new Map<string, { property: string; sql: string }>();

  constructor(options: SqliteAomStoreOptions = {}) {
    this.#owned = options.database === undefined;
    this.#db = options.database ?? new Database(options.filename ?? ':memory:');
    this.#prefix = tablePrefix(options.tablePrefix);
    this.#types = `${this.#prefix}types`;
    this.#entities = `${this.#prefix}entities`;
    this.#history = `${this.#prefix}history`;
    this.#autoIndex = options.autoIndex ?? false;
  }

  async init(): Promise<void> {
    this.#db.pragma('journal_mode = WAL');
    this.#db.exec(`
      create table if not exists ${this.#types} (name text not null, version integer not null, record text not null, primary key (name, version));
      create table if not exists ${this.#entities} (
        id text primary key, type text not null, type_version integer not null, revision integer not null, data text not null
      );
      create index if not exists ${this.#prefix}entities_type on ${this.#entities} (type, type_version);
      create table if not exists ${this.#history} (
        entity_id text not null, property text not null, revision integer not null, at text not null, value text,
        primary key (entity_id, property, revision)
      );
    `);
  }

  async saveType(record: TypeVersionRecord): Promise<boolean> {
    const result = this.#db
      .prepare(`insert into ${this.#types} (name, version, record) values (?, ?, ?) on conflict do nothing`)
      .run(record.name, record.version, JSON.stringify(record));
    return result.changes === 1;
  }

  async loadTypes(): Promise<TypeVersionRecord[]> {
    const rows = this.#db.prepare(`select record from ${this.#types}`).all() as { record: string }[];
    return rows.map((row) => JSON.parse(row.record) as TypeVersionRecord);
  }

  async insert(record: EntityRecord, history: readonly HistoryEntry[] = []): Promise<boolean> {
    return this.#db.transaction(() => {
      const result = this.#db
        .prepare(`insert into ${this.#entities} (id, type, type_version, revision, data) values (?, ?, ?, ?, ?) on conflict do nothing`)
        .run(record.id, record.type, record.typeVersion, record.revision, JSON.stringify(record.values));
      if (result.changes !== 1) return false;
      this.#log(record.id, history);
      return true;
    })();
  }

  async replace(record: EntityRecord, expectedRevision: number, history: readonly HistoryEntry[] = []): Promise<boolean> {
    return this.#db.transaction(() => {
      const result = this.#db
        .prepare(`update ${this.#entities} set type = ?, type_version = ?, revision = ?, data = ? where id = ? and revision = ?`)
        .run(record.type, record.typeVersion, record.revision, JSON.stringify(record.values), record.id, expectedRevision);
      if (result.changes !== 1) return false;
      this.#log(record.id, history);
      return true;
    })();
  }

  #log(id: string, history: readonly HistoryEntry[]): void {
    const add = this.#db.prepare(`insert into ${this.#history} (entity_id, property, revision, at, value) values (?, ?, ?, ?, ?)`);
    for (const entry of history)
      add.run(id, entry.property, entry.revision, entry.at, 'value' in entry ? JSON.stringify(entry.value) : null);
  }

  async history(id: string, property: string): Promise<HistoryEntry[]> {
    const rows = this.#db
      .prepare(`select revision, at, value from ${this.#history} where entity_id = ? and property = ? order by revision`)
      .all(id, property) as { revision: number; at: string; value: string | null }[];
    return rows.map((row) => ({
      property,
      revision: row.revision,
      at: row.at,
      ...(row.value === null ? {} : { value: JSON.parse(row.value) }),
    }));
  }

  async load(id: string): Promise<EntityRecord | undefined> {
    const row = this.#db.prepare(`select * from ${this.#entities} where id = ?`).get(id) as Row | undefined;
    return row && toRecord(row);
  }

  async remove(id: string, expectedRevision: number): Promise<boolean> {
    return this.#db.transaction(() => {
      if (this.#db.prepare(`delete from ${this.#entities} where id = ? and revision = ?`).run(id, expectedRevision).changes !== 1)
        return false;
      this.#db.prepare(`delete from ${this.#history} where entity_id = ?`).run(id);
      return true;
    })();
  }

  async query(query: StoreQuery): Promise<EntityRecord[]> {
    const { sql, params } = this.compile(query);
    return (this.#db.prepare(sql).all(...params) as Row[]).map(toRecord);
  }

  /** The SQL a query runs (creating the indexes it wants), for EXPLAIN and benchmarks. */
  compile(query: StoreQuery): { sql: string; params: unknown[] } {
    const params: unknown[] = [...query.types];
    const conditions = query.conditions.map((condition) => this.#condition(condition, params));
    // A unary + keeps SQLite from answering with the type index when a property index can narrow far more.
    const narrowed = this.#autoIndex && query.conditions.some((condition) => condition.op !== 'exists' && condition.op !== 'contains');
    const where = [`${narrowed ? '+' : ''}type in (${query.types.map(() => '?').join(', ')})`, ...conditions];
    if (query.after !== undefined) {
      where.push('id > ?');
      params.push(query.after);
    }
    const order = [...query.orderBy.flatMap((key) => this.#order(key)), 'id'];
    let sql = `select * from ${this.#entities} where ${where.join(' and ')} order by ${order.join(', ')}`;
    if (query.limit !== undefined) {
      sql += ' limit ?';
      params.push(query.limit);
    }
    return { sql, params };
  }

  /** SQLite's query plan for a query, one step per line. */
  explain(query: StoreQuery): string {
    const { sql, params } = this.compile(query);
    const steps = this.#db.prepare(`explain query plan ${sql}`).all(...params) as { detail: string }[];
    return steps.map((step) => step.detail).join('\n');
  }

  async olderThan(type: string, version: number, limit: number): Promise<EntityRecord[]> {
    const rows = this.#db
      .prepare(`select * from ${this.#entities} where type = ? and type_version < ? order by id limit ?`)
      .all(type, version, limit) as Row[];
    return rows.map(toRecord);
  }

  async close(): Promise<void> {
    if (this.#owned) this.#db.close();
  }

  #condition(condition: Condition, params: unknown[]): string {
    const typed = (valueClass: ValueClass, comparison: string, value: unknown) => {
      params.push(valueClass === 'boolean' ? (value ? 'true' : 'false') : value);
      return valueClass === 'boolean'
        ? `json_type(data, ${path}) = ?`
        : `(json_type(data, ${path}) ${TYPE_TEST[valueClass]} and json_extract(data, ${path}) ${comparison} ?)`;
    };
    const all = (conditions: readonly Condition[]) =>
      conditions.length === 0 ? '1' : `(${conditions.map((inner) => this.#condition(inner, params)).join(' and ')})`;
    // A test on an absent value is NULL in SQL but false in the reference matcher, so not() coalesces.
    if (condition.op === 'or') return `(${condition.branches.map(all).join(' or ')})`;
    if (condition.op === 'not') return `not coalesce(${all(condition.conditions)}, 0)`;
    const path = `'$.${sqlName(condition.property)}'`;
    if (condition.op !== 'exists' && condition.op !== 'contains') this.#ensureIndex(condition.property);
    switch (condition.op) {
      case 'eq':
        return typed(classOf(condition.value), '=', condition.value);
      case 'in':
        return `(${condition.values.map((value) => typed(classOf(value), '=', value)).join(' or ')})`;
      case 'exists':
        return `json_type(data, ${path}) is ${condition.value ? 'not ' : ''}null`;
      case 'contains': {
        const valueClass = classOf(condition.value);
        params.push(valueClass === 'boolean' ? (condition.value ? 'true' : 'false') : condition.value);
        const test = valueClass === 'boolean' ? 'item.type = ?' : `item.type ${TYPE_TEST[valueClass]} and item.value = ?`;
        return `(json_type(data, ${path}) = 'array' and exists (select 1 from json_each(data, ${path}) as item where ${test}))`;
      }
      default:
        return typed(condition.valueClass, { gt: '>', gte: '>=', lt: '<', lte: '<=' }[condition.op], condition.value);
    }
  }

  #order(key: SortKey): string[] {
    this.#ensureIndex(key.property);
    const path = `'$.${sqlName(key.property)}'`;
    const typed = `(json_type(data, ${path}) ${TYPE_TEST[key.valueClass]})`;
    return [`(case when ${typed} then 0 else 1 end)`, `(case when ${typed} then json_extract(data, ${path}) end) ${key.direction}`];
  }

  /** The expression indexes queries so far wanted that the table lacks, each with the SQL that builds it. */
  async missingIndexes(): Promise<{ property: string; index: string; sql: string }[]> {
    const present = new Set(
      (
        this.#db.prepare("select name from sqlite_master where type = 'index' and tbl_name = ?").all(this.#entities) as { name: string }[]
      ).map((row) => row.name),
    );
    return [...this.#wanted].filter(([index]) => !present.has(index)).map(([index, wanted]) => ({ index, ...wanted }));
  }

  #ensureIndex(property: string): void {
    // json_extract returns numbers, text and booleans from one expression, so one index serves all.
    const name = indexName(this.#prefix, property, 'json');
    const sql = `create index if not exists ${name} on ${this.#entities} (json_extract(data, '$.${sqlName(property)}'))`;
    if (!this.#wanted.has(name)) this.#wanted.set(name, { property, sql });
    if (!this.#autoIndex || this.#indexed.has(name)) return;
    this.#db.exec(sql);
    this.#indexed.add(name);
  }
}

function classOf(value: unknown): ValueClass {
  return typeof value === 'number' ? 'number' : typeof value === 'boolean' ? 'boolean' : 'string';
}

function toRecord(row: Row): EntityRecord {
  return { id: row.id, type: row.type, typeVersion: row.type_version, revision: row.revision, values: JSON.parse(row.data) };
}

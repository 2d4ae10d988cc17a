import pg from 'pg';
import type { Condition, SortKey, StoreQuery, ValueClass } from '../query/spec.js';
import type { TypeVersionRecord } from '../schema/definition.js';
import { indexName, sqlName, tablePrefix } from './sql-names.js';
import type { AomStore, EntityRecord, HistoryEntry } from './store.js';

export interface PostgresAomStoreOptions {
  /** Used to open a pool the store owns and closes. */
  readonly connectionString?: string;
  /** A pool the caller owns; the store never ends it. */
  readonly pool?: pg.Pool;
  /** Prefix of the two tables (default `aom_`). */
  readonly tablePrefix?: string;
  /**
   * Build an expression index (`CREATE INDEX CONCURRENTLY`, so writes go on) the first time a
   * property is range-queried or sorted on. Default false: a request should not start an index
   * build; `missingIndexes()` lists what queries wanted, with the SQL to run in a migration.
   */
  readonly autoIndex?: boolean;
}

interface Row {
  id: string;
  type: string;
  type_version: number;
  revision: number;
  data: Record<string, unknown>;
}

/**
 * The document store on PostgreSQL: values in one jsonb column with a GIN `jsonb_path_ops`
 * index that serves equality and containment, and typed expression indexes made on demand for
 * range queries and sorting. The type table keeps `json` (not `jsonb`) so declared property
 * order survives.
 */
export class PostgresAomStore implements AomStore {
  readonly #pool: pg.Pool;
  readonly #owned: boolean;
  readonly #prefix: string;
  readonly #types: string;
  readonly #entities: string;
  readonly #history: string;
  readonly #autoIndex: boolean;
  readonly #indexed = new Map<string, Promise<void>>();
  /** Expression indexes queries would use, by name: what `missingIndexes` checks. */
  readonly #wanted = new Map<string, { property: string; valueClass: ValueClass; sql: string }>();

  constructor(options: PostgresAomStoreOptions) {
    if (!options.pool && !options.connectionString) throw new Error('PostgresAomStore needs options.pool or options.connectionString');
    this.#owned = !options.pool;
    this.#pool = options.pool ?? new pg.Pool({ connectionString: options.connectionString });
    // An idle connection that breaks (server restart, terminated backend) is dropped by the pool and the next
    // query opens a new one; without a listener node-postgres would crash the process instead.
    if (this.#owned) this.#pool.on('error', () => undefined);
    this.#prefix = tablePrefix(options.tablePrefix);
    this.#types = `${this.#prefix}types`;
    this.#entities = `${this.#prefix}entities`;
    this.#history = `${this.#prefix}history`;
    this.#autoIndex = options.autoIndex ?? false;
  }

  /** Names of the GIN and expression indexes, for callers that manage indexes themselves. */
  get tables(): { types: string; entities: string; gin: string } {
    return { types: this.#types, entities: this.#entities, gin: `${this.#prefix}entities_data` };
  }

  async init(): Promise<void> {
    await this.#pool.query(`
      create table if not exists ${this.#types} (name text not null, version integer not null, record json not null, primary key (name, version));
      create table if not exists ${this.#entities} (
        id text primary key, type text not null, type_version integer not null, revision integer not null, data jsonb not null
      );
      create index if not exists ${this.#prefix}entities_type on ${this.#entities} (type, type_version);
      create index if not exists ${this.#prefix}entities_data on ${this.#entities} using gin (data jsonb_path_ops);
      create table if not exists ${this.#history} (
        entity_id text not null, property text not null, revision integer not null, at text not null, value jsonb,
        primary key (entity_id, property, revision)
      );
    `);
  }

  async saveType(record: TypeVersionRecord): Promise<boolean> {
    const result = await this.#pool.query(`insert into ${this.#types} (name, version, record) values ($1, $2, $3) on conflict do nothing`, [
      record.name,
      record.version,
      JSON.stringify(record),
    ]);
    return result.rowCount === 1;
  }

  async loadTypes(): Promise<TypeVersionRecord[]> {
    const result = await this.#pool.query<{ record: TypeVersionRecord }>(`select record from ${this.#types}`);
    return result.rows.map((row) => row.record);
  }

  async insert(record: EntityRecord, history: readonly HistoryEntry[] = []): Promise<boolean> {
    // One statement, so the entity and its history are written together or not at all.
    const result = await this.#pool.query<{ n: number }>(
      `with written as (
         insert into ${this.#entities} (id, type, type_version, revision, data) values ($1, $2, $3, $4, $5) on conflict do nothing returning id
       ), ${this.#logged('$6')}
       select count(*)::int as n from written`,
      [record.id, record.type, record.typeVersion, record.revision, JSON.stringify(record.values), JSON.stringify(history)],
    );
    return result.rows[0]!.n === 1;
  }

  /** A CTE appending the history entries in `param` (a jsonb array) for the row in `written`. */
  #logged(param: string): string {
    return `logged as (
      insert into ${this.#history} (entity_id, property, revision, at, value)
      select written.id, h.property, h.revision, h.at, h.value
      from written cross join jsonb_to_recordset(${param}::jsonb) as h(property text, revision integer, at text, value jsonb)
    )`;
  }

  async history(id: string, property: string): Promise<HistoryEntry[]> {
    const result = await this.#pool.query<{ revision: number; at: string; value: unknown }>(
      `select revision, at, value from ${this.#history} where entity_id = $1 and property = $2 order by revision`,
      [id, property],
    );
    // SQL NULL marks a removal; a JSON value is never null (null removes a property).
    return result.rows.map((row) => ({
      property,
      revision: row.revision,
      at: row.at,
      ...(row.value === null ? {} : { value: row.value }),
    }));
  }

  async replace(record: EntityRecord, expectedRevision: number, history: readonly HistoryEntry[] = []): Promise<boolean> {
    const result = await this.#pool.query<{ n: number }>(
      `with written as (
         update ${this.#entities} set type = $1, type_version = $2, revision = $3, data = $4 where id = $5 and revision = $6 returning id
       ), ${this.#logged('$7')}
       select count(*)::int as n from written`,
      [
        record.type,
        record.typeVersion,
        record.revision,
        JSON.stringify(record.values),
        record.id,
        expectedRevision,
        JSON.stringify(history),
      ],
    );
    return result.rows[0]!.n === 1;
  }

  async load(id: string): Promise<EntityRecord | undefined> {
    const result = await this.#pool.query<Row>(`select * from ${this.#entities} where id = $1`, [id]);
    const row = result.rows[0];
    return row && toRecord(row);
  }

  async remove(id: string, expectedRevision: number): Promise<boolean> {
    const result = await this.#pool.query<{ n: number }>(
      `with gone as (delete from ${this.#entities} where id = $1 and revision = $2 returning id),
       cleared as (delete from ${this.#history} where entity_id in (select id from gone))
       select count(*)::int as n from gone`,
      [id, expectedRevision],
    );
    return result.rows[0]!.n === 1;
  }

  async query(query: StoreQuery): Promise<EntityRecord[]> {
    const { sql, params } = this.compile(query);
    await Promise.all([
      ...rangeConditions(query.conditions).map((condition) => this.#ensureIndex(condition.property, condition.valueClass)),
      ...query.orderBy.map((key) => this.#ensureIndex(key.property, key.valueClass)),
    ]);
    const result = await this.#pool.query<Row>(sql, params);
    return result.rows.map(toRecord);
  }

  /** The SQL a query runs, for EXPLAIN and benchmarks. */
  compile(query: StoreQuery): { sql: string; params: unknown[] } {
    const params: unknown[] = [];
    const param = (value: unknown, cast: string) => {
      params.push(value);
      return `$${params.length}::${cast}`;
    };
    const contains = (document: unknown) => `data @> ${param(JSON.stringify(document), 'jsonb')}`;
    const where = [`type = any(${param(query.types, 'text[]')})`];
    for (const condition of query.conditions) where.push(this.#condition(condition, param, contains));
    if (query.after !== undefined) where.push(`id collate "C" > ${param(query.after, 'text')}`);
    const order = [...query.orderBy.map((key) => orderTerm(key)), 'id collate "C"'];
    let sql = `select id, type, type_version, revision, data from ${this.#entities} where ${where.join(' and ')} order by ${order.join(', ')}`;
    if (query.limit !== undefined) sql += ` limit ${param(query.limit, 'int')}`;
    return { sql, params };
  }

  async olderThan(type: string, version: number, limit: number): Promise<EntityRecord[]> {
    const result = await this.#pool.query<Row>(
      `select * from ${this.#entities} where type = $1 and type_version < $2 order by id collate "C" limit $3`,
      [type, version, limit],
    );
    return result.rows.map(toRecord);
  }

  async close(): Promise<void> {
    if (this.#owned) await this.#pool.end();
  }

  #condition(condition: Condition, param: (value: unknown, cast: string) => string, contains: (document: unknown) => string): string {
    const all = (conditions: readonly Condition[]) =>
      conditions.length === 0 ? 'true' : `(${conditions.map((inner) => this.#condition(inner, param, contains)).join(' and ')})`;
    // A test on an absent value is NULL in SQL but false in the reference matcher, so not() coalesces.
    if (condition.op === 'or') return `(${condition.branches.map(all).join(' or ')})`;
    if (condition.op === 'not') return `not coalesce(${all(condition.conditions)}, false)`;
    const name = sqlName(condition.property);
    switch (condition.op) {
      case 'eq':
        return contains({ [name]: condition.value });
      case 'in':
        return `(${condition.values.map((value) => contains({ [name]: value })).join(' or ')})`;
      case 'exists':
        return `${condition.value ? '' : 'not '}(data ? '${name}')`;
      case 'contains':
        return contains({ [name]: [condition.value] });
      default: {
        const op = { gt: '>', gte: '>=', lt: '<', lte: '<=' }[condition.op];
        return `${typedValue(name, condition.valueClass)} ${op} ${param(condition.value, condition.valueClass === 'number' ? 'numeric' : 'text')}`;
      }
    }
  }

  /**
   * The expression indexes queries so far wanted that the table lacks (or has invalid, after a
   * failed concurrent build), each with the SQL that builds it without blocking writes.
   */
  async missingIndexes(): Promise<{ property: string; valueClass: ValueClass; index: string; sql: string }[]> {
    const result = await this.#pool.query<{ indexname: string }>(
      `select c.relname as indexname from pg_index i join pg_class c on c.oid = i.indexrelid
       where i.indrelid = to_regclass($1) and i.indisvalid`,
      [this.#entities],
    );
    const present = new Set(result.rows.map((row) => row.indexname));
    return [...this.#wanted].filter(([index]) => !present.has(index)).map(([index, wanted]) => ({ index, ...wanted }));
  }

  #ensureIndex(property: string, valueClass: ValueClass): Promise<void> {
    const name = indexName(this.#prefix, property, valueClass);
    const sql = `create index concurrently if not exists ${name} on ${this.#entities} ((${typedValue(property, valueClass)}))`;
    if (!this.#wanted.has(name)) this.#wanted.set(name, { property, valueClass, sql });
    if (!this.#autoIndex) return Promise.resolve();
    let pending = this.#indexed.get(name);
    if (!pending) {
      pending = this.#pool.query(sql).then(
        () => undefined,
        (error: { code?: string }) => {
          // Another store instance created it at the same moment.
          if (error.code === '23505' || error.code === '42P07') return;
          this.#indexed.delete(name);
          throw error;
        },
      );
      this.#indexed.set(name, pending);
    }
    return pending;
  }
}

/** The property as a typed SQL value, null when it is absent or of another JSON type. */
type RangeCondition = Extract<Condition, { valueClass: unknown }>;

/** The range conditions of a query, nested ones included: the ones an expression index serves. */
function rangeConditions(conditions: readonly Condition[]): RangeCondition[] {
  return conditions.flatMap((condition) =>
    condition.op === 'or'
      ? condition.branches.flatMap(rangeConditions)
      : condition.op === 'not'
        ? rangeConditions(condition.conditions)
        : 'valueClass' in condition
          ? [condition]
          : [],
  );
}

function typedValue(property: string, valueClass: ValueClass): string {
  const name = sqlName(property);
  const jsonType = valueClass === 'number' ? 'number' : valueClass;
  const cast =
    valueClass === 'number'
      ? `(data->>'${name}')::numeric`
      : valueClass === 'boolean'
        ? `(data->>'${name}')::boolean`
        : `(data->>'${name}')`;
  const expression = `case when jsonb_typeof(data->'${name}') = '${jsonType}' then ${cast} end`;
  return valueClass === 'string' ? `((${expression}) collate "C")` : `(${expression})`;
}

function orderTerm(key: SortKey): string {
  return `${typedValue(key.property, key.valueClass)} ${key.direction} nulls last`;
}

function toRecord(row: Row): EntityRecord {
  return { id: row.id, type: row.type, typeVersion: row.type_version, revision: row.revision, values: row.data };
}

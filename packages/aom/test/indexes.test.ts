import { freshEach, postgres } from '@myrmex/test-utils';
import Database from 'better-sqlite3';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { AomRegistry } from '../src/index.js';
import { compileQuery } from '../src/query/spec.js';
import { PostgresAomStore } from '../src/store/postgres.js';
import { SqliteAomStore } from '../src/store/sqlite.js';

const gate = await postgres();

const def = {
  name: 'Car',
  properties: {
    maker: { type: 'string' as const },
    year: { type: 'integer' as const },
    tags: { type: 'list' as const, of: { type: 'string' as const } },
  },
};

gate.describe('PostgreSQL indexes', () => {
  const db = freshEach(() => gate.freshDatabase());

  it('answers equality and containment from the GIN index, and ranges from an expression index made on demand', async () => {
    const pool = new pg.Pool({ connectionString: db.current.url, max: 2 });
    try {
      const store = new PostgresAomStore({ pool, autoIndex: true });
      const registry = await AomRegistry.open({ store });
      const car = await registry.defineType(def);
      // Enough rows, with statistics, for the planner to prefer an index when one fits.
      await pool.query(`
        insert into aom_entities (id, type, type_version, revision, data)
        select 'c' || i, 'Car', 1, 1, jsonb_build_object('maker', 'm' || (i % 500), 'year', 1900 + (i % 200), 'tags', jsonb_build_array('t' || (i % 300)))
        from generate_series(1, 20000) as i`);
      await pool.query('vacuum analyze aom_entities');
      const plan = async (query: Parameters<typeof compileQuery>[2]) => {
        const compiled = compileQuery(car, [], query);
        await store.query(compiled);
        await pool.query('vacuum analyze aom_entities');
        const { sql, params } = store.compile(compiled);
        const result = await pool.query(`explain ${sql}`, params);
        return result.rows.map((row: Record<string, string>) => Object.values(row)[0]).join('\n');
      };
      const indexes = async () =>
        (await pool.query<{ indexname: string }>("select indexname from pg_indexes where tablename = 'aom_entities' order by 1")).rows.map(
          (r) => r.indexname,
        );
      expect(await plan({ where: { maker: 'm1' } })).toContain('Bitmap Index Scan on aom_entities_data');
      expect(await plan({ where: { tags: { contains: 't2' } } })).toContain('Bitmap Index Scan on aom_entities_data');
      expect((await indexes()).some((name) => name.startsWith('aom_ix_'))).toBe(false);
      const range = await plan({ where: { year: { gte: 2000, lt: 2002 } } });
      const yearIndex = (await indexes()).find((name) => name.startsWith('aom_ix_year_n'));
      expect(yearIndex).toBeDefined();
      expect(range).toContain(`Index Scan on ${yearIndex}`);
      const textRange = await plan({ where: { maker: { gte: 'm10', lt: 'm100' } } });
      const makerIndex = (await indexes()).find((name) => name.startsWith('aom_ix_maker_s'));
      expect(textRange).toContain(`Index Scan on ${makerIndex}`);
      const found = await registry.find('Car', { where: { year: { gte: 2098 } }, orderBy: '-year', limit: 3 });
      expect(found.map((entity) => entity.values.year)).toEqual([2099, 2099, 2099]);
    } finally {
      await pool.end();
    }
  });
});

describe('SQLite indexes', () => {
  it('makes expression indexes on demand that equality and range queries use', async () => {
    const database = new Database(':memory:');
    const store = new SqliteAomStore({ database, autoIndex: true });
    const registry = await AomRegistry.open({ store });
    const car = await registry.defineType(def);
    database.exec(`
      with recursive n(i) as (select 1 union all select i + 1 from n where i < 5000)
      insert into aom_entities (id, type, type_version, revision, data)
      select 'c' || i, 'Car', 1, 1, json_object('maker', 'm' || (i % 500), 'year', 1900 + (i % 200)) from n`);
    const explain = (query: Parameters<typeof compileQuery>[2]) => {
      const compiled = compileQuery(car, [], query);
      store.compile(compiled);
      database.exec('analyze');
      return store.explain(compiled);
    };
    expect(explain({ where: { year: { gte: 2000, lt: 2002 } } })).toMatch(/USING INDEX aom_ix_year_j_\w+ \(<expr>>\?/);
    expect(explain({ where: { maker: 'm7' } })).toMatch(/USING INDEX aom_ix_maker_j_\w+ \(<expr>=\?\)/);
    const found = await registry.find('Car', { where: { year: { gte: 2098 } }, orderBy: '-year', limit: 2 });
    expect(found.map((entity) => entity.values.year)).toEqual([2099, 2099]);
    await store.close();
    database.close();
  });
});

describe('indexes are opt-in: by default a query never builds one, and the missing ones are reported', () => {
  it('SQLite', async () => {
    const database = new Database(':memory:');
    const store = new SqliteAomStore({ database });
    const registry = await AomRegistry.open({ store });
    await registry.defineType(def);
    await registry.find('Car', { where: { year: { gte: 2000 } }, orderBy: 'maker' });
    const indexes = () =>
      (database.prepare("select name from sqlite_master where type = 'index' and name like 'aom_ix_%'").all() as unknown[]).length;
    expect(indexes()).toBe(0);
    const missing = await store.missingIndexes();
    expect(missing.map((entry) => entry.property).sort()).toEqual(['maker', 'year']);
    for (const entry of missing) database.exec(entry.sql);
    expect(indexes()).toBe(2);
    expect(await store.missingIndexes()).toEqual([]);
    await store.close();
    database.close();
  });
});

gate.describe('indexes are opt-in on PostgreSQL, and built CONCURRENTLY', () => {
  const db = freshEach(() => gate.freshDatabase());

  it('reports a missing index with CREATE INDEX CONCURRENTLY, which then serves the query', async () => {
    const pool = new pg.Pool({ connectionString: db.current.url, max: 2 });
    try {
      const store = new PostgresAomStore({ pool });
      const registry = await AomRegistry.open({ store });
      await registry.defineType(def);
      await registry.find('Car', { where: { year: { gte: 2000 } } });
      const expressionIndexes = async () =>
        (await pool.query("select indexname from pg_indexes where tablename = 'aom_entities' and indexname like 'aom_ix_%'")).rowCount;
      expect(await expressionIndexes()).toBe(0);
      const [missing, ...rest] = await store.missingIndexes();
      expect(rest).toEqual([]);
      expect(missing).toMatchObject({ property: 'year', valueClass: 'number' });
      expect(missing!.sql).toMatch(/^create index concurrently if not exists aom_ix_year_n/);
      await pool.query(missing!.sql);
      expect(await expressionIndexes()).toBe(1);
      expect(await store.missingIndexes()).toEqual([]);
      // With autoIndex the store builds it itself, concurrently, the first time a query wants it.
      const auto = new PostgresAomStore({ pool, autoIndex: true, tablePrefix: 'auto_' });
      const autoRegistry = await AomRegistry.open({ store: auto });
      await autoRegistry.defineType(def);
      await autoRegistry.find('Car', { orderBy: 'maker' });
      expect(await auto.missingIndexes()).toEqual([]);
    } finally {
      await pool.end();
    }
  });
});

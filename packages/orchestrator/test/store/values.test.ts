import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { valuesList } from '../../src/store/sql/values.js';

const raw = new BetterSqlite3(':memory:');
const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: raw }) });

describe('valuesList', () => {
  it('is one parameter per cell, cast where a type is named, rows in order', () => {
    const compiled = sql`SELECT * FROM (VALUES ${valuesList(
      [
        ['a', 1, null],
        ['b', 2, 7],
      ],
      ['TEXT', undefined, 'BIGINT'],
    )}) AS v`.compile(db);
    expect(compiled.sql).toBe(
      'SELECT * FROM (VALUES (CAST(? AS TEXT), ?, CAST(? AS BIGINT)), (CAST(? AS TEXT), ?, CAST(? AS BIGINT))) AS v',
    );
    expect(compiled.parameters).toEqual(['a', 1, null, 'b', 2, 7]);
    expect(
      raw
        .prepare(compiled.sql)
        .raw()
        .all(...compiled.parameters),
    ).toEqual([
      ['a', 1, null],
      ['b', 2, 7],
    ]);
  });

  it('refuses an empty list (VALUES needs a row)', () => {
    expect(() => valuesList([])).toThrow(/rows must not be empty/);
  });
});

import { postgres } from '@myrmex/test-utils';
import { type Kysely, sql } from 'kysely';
import pg from 'pg';
import { expect, it } from 'vitest';
import { PostgresStore } from '../../src/index.js';
import { nameRepeatedStatements } from '../../src/store/postgres/named-statements.js';

/**
 * The store's repeated statements go as named prepared statements (parsed once per connection, planned
 * once when PostgreSQL finds a generic plan as cheap), one-offs unnamed, a bounded number of names, and a
 * connection whose prepared statement no longer matches its table recovers (issue 11). One connection per
 * pool, so `pg_prepared_statements` (which is per session) shows what that pool prepared.
 */
const gate = await postgres();

/** A pool's connection, called the way Kysely calls it (`query(text, values)`, a promise). */
async function withPool(
  options: Parameters<typeof nameRepeatedStatements>[1],
  work: (pool: pg.PoolClient) => Promise<void>,
): Promise<void> {
  const db = await gate.freshDatabase();
  const pool = new pg.Pool({ connectionString: db.url, max: 1 });
  nameRepeatedStatements(pool, options);
  const client = await pool.connect();
  try {
    await work(client);
  } finally {
    client.release();
    await pool.end();
    await db.dispose();
  }
}

const prepared = async (pool: pg.PoolClient): Promise<string[]> =>
  (await pool.query<{ statement: string }>('SELECT statement FROM pg_prepared_statements ORDER BY prepare_time')).rows.map(
    (r) => r.statement,
  );

gate.describe('named statements on PostgreSQL', () => {
  it('names a text from its second execution on, and never a text sent once', async () => {
    await withPool({}, async (pool) => {
      const once = 'SELECT $1::int + 1 AS n';
      const twice = 'SELECT $1::int + 2 AS n';
      expect((await pool.query(once, [1])).rows).toEqual([{ n: 2 }]);
      expect((await pool.query(twice, [1])).rows).toEqual([{ n: 3 }]);
      expect(await prepared(pool)).toEqual([]);
      expect((await pool.query(twice, [5])).rows).toEqual([{ n: 7 }]);
      expect((await pool.query(twice, [6])).rows).toEqual([{ n: 8 }]);
      expect(await prepared(pool)).toEqual([twice]);
    });
  });

  it('hands out at most max names; later texts still run, unnamed', async () => {
    await withPool({ after: 1, max: 3 }, async (pool) => {
      for (let i = 0; i < 6; i++) {
        const text = `SELECT $1::int * ${i + 2} AS n`;
        expect((await pool.query(text, [10])).rows).toEqual([{ n: 10 * (i + 2) }]);
        expect((await pool.query(text, [1])).rows).toEqual([{ n: i + 2 }]);
      }
      expect(await prepared(pool)).toHaveLength(3);
    });
  });

  it('a table that gained a column fails the stale statement once, then the connection runs unnamed', async () => {
    await withPool({ after: 1 }, async (pool) => {
      await pool.query('CREATE TABLE t (a int)');
      await pool.query('INSERT INTO t VALUES (1)');
      const text = 'SELECT * FROM t WHERE a >= $1';
      expect((await pool.query(text, [0])).rows).toEqual([{ a: 1 }]);
      await pool.query('ALTER TABLE t ADD COLUMN b int DEFAULT 7');
      await expect(pool.query(text, [0])).rejects.toThrow(/cached plan must not change result type/);
      expect((await pool.query(text, [0])).rows).toEqual([{ a: 1, b: 7 }]);
    });
  });

  it('leaves calls with a config object or without parameters as they were', async () => {
    await withPool({ after: 1 }, async (pool) => {
      await pool.query('SELECT 1');
      await pool.query('SELECT 2', []);
      await pool.query('SELECT 2', []);
      await pool.query({ text: 'SELECT $1::int AS n', values: [1] });
      await pool.query({ text: 'SELECT $1::int AS n', values: [1] });
      expect(await prepared(pool)).toEqual([]);
    });
  });

  it("a deep queue's claims are planned once: the generic plan, not a plan per claim", async () => {
    const db = await gate.freshDatabase();
    // One connection, so the test reads the session the claims ran in.
    const store = PostgresStore.open({ url: db.url, poolSize: 1 });
    try {
      await store.opened();
      const at = new Date();
      const kind = { jobType: 'deep', version: 1 };
      await store.createJobs(
        Array.from({ length: 5000 }, (_, i) => ({
          id: `deep-${i}`,
          ...kind,
          priority: 0,
          params: {},
          submittedAt: at,
          scheduledAt: at,
          taskTypes: ['only'],
        })),
      );
      for (let admitted = 0; admitted < 5000; )
        admitted += (await store.admitNext({ at, limit: 500, take: [{ ...kind, start: ['only'] }] }))?.admitted ?? 0;
      const internals = store as unknown as { db: Kysely<unknown> };
      // Statistics that know the queue is deep (the store's own check would run them within a second).
      await sql`ANALYZE jobs, tasks`.execute(internals.db);
      for (let i = 0; i < 12; i++) {
        const claimed = await store.claimNext({ antId: 'ant', at: new Date(), limit: 16, take: [{ ...kind, taskType: 'only' }], skip: [] });
        expect(claimed?.claimed).toHaveLength(16);
      }
      const plans = await sql<{ generic_plans: string; custom_plans: string }>`
        SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE '%task_type, timeout_ms%'`.execute(
        internals.db,
      );
      expect(plans.rows).toHaveLength(1);
      // PostgreSQL plans the first five executions for their values, then keeps the generic plan if it costs no
      // more: with the limit bound as a parameter it was costed as a tenth of the queue (500 rows), never chosen.
      expect(Number(plans.rows[0]!.generic_plans)).toBeGreaterThanOrEqual(6);
    } finally {
      await store.close();
      await db.dispose();
    }
  });
});

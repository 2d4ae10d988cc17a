import { postgres } from '@myrmex/test-utils';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterEach, expect, it, vi } from 'vitest';
import { type JobQuery, PostgresStore } from '../../src/index.js';
import { hotQueries, jobFilter } from '../../src/store/sql/hot-queries.js';

/**
 * Issue 16: a page of the job list stays an index walk however many jobs there are, and no COUNT
 * runs unless asked for. 50,000 jobs are written in one INSERT … SELECT (the store's own submit
 * path would take minutes here), analysed, then the planner, with its real statistics, is asked
 * how it would serve each filter the Jobs page sends.
 */
const JOBS = 50_000;
const BASE = 1_800_000_000_000;

const gate = await postgres();
afterEach(() => vi.restoreAllMocks());

gate.describe('the job list on PostgreSQL with 50,000 jobs', () => {
  it('serves every filter from an index, newest first, and counts only with count=exact', { timeout: 60_000 }, async () => {
    const fresh = await gate.freshDatabase();
    const store = PostgresStore.open({ url: fresh.url, poolSize: 2 });
    const pool = new pg.Pool({ connectionString: fresh.url, max: 1 });
    pool.on('error', () => undefined);
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
    try {
      await store.opened();
      // One job a second; md5 ids (hex, as random as the real ones' tails); 20 types, 4 states.
      await pool.query(
        `INSERT INTO jobs (id, job_type, version, state, priority, params, submitted_at, scheduled_at, org)
         SELECT md5(i::text), 'type-' || (i % 20), 1, (ARRAY['COMPLETED','FAILED','CANCELLED','PENDING'])[1 + i % 4], 50,
                '{"n":' || i || '}', $1::bigint + i * 1000, $1::bigint + i * 1000, 'default'
         FROM generate_series(1, ${JOBS}) AS i`,
        [BASE],
      );
      await pool.query('ANALYZE jobs');

      const at = (second: number) => new Date(BASE + second * 1000);
      const queries: [string, JobQuery, number | undefined][] = [
        ['the newest page', {}, undefined],
        ['a deep page by cursor', {}, 1000],
        ['a state', { state: 'FAILED' }, undefined],
        ['a job type', { jobType: 'type-7' }, undefined],
        ['a time range', { submittedAfter: at(20_000), submittedBefore: at(20_500) }, undefined],
        ['the time range after a cursor', { submittedAfter: at(20_000) }, 30_000],
        ['an id prefix', { text: 'abc' }, undefined],
        ['a job type as text', { text: 'type-3' }, undefined],
        ['state, time and text together', { state: 'COMPLETED', submittedBefore: at(40_000), text: 'f0' }, undefined],
      ];
      // The searches a filter's own index serves: the id prefix from the unique text_pattern_ops index (migration 0024).
      const ID_PREFIX = /Index Scan on jobs_id [^\n]*\n\s+Index Cond: \(\(id ~>=~ /;
      const SEARCHES: Readonly<Record<string, RegExp>> = {
        'a time range': /using jobs_submitted on jobs[^\n]*\n\s+Index Cond: \(\(submitted_at >= /,
        'an id prefix': ID_PREFIX,
        'state, time and text together': ID_PREFIX,
      };
      for (const [name, query, afterSeq] of queries) {
        const compiled = hotQueries.jobPage(jobFilter(query), afterSeq, 51, 0).compile(db);
        const { rows } = await pool.query(`EXPLAIN ${compiled.sql}`, [...compiled.parameters]);
        const plan = rows.map((row: Record<string, string>) => row['QUERY PLAN']).join('\n');
        expect(plan, name).toMatch(/Index (Only )?Scan|Bitmap Index Scan/);
        expect(plan, name).not.toMatch(/Seq Scan/);
        if (SEARCHES[name]) expect(plan, name).toMatch(SEARCHES[name]);
      }

      // What listJobs sends: one page query, and a COUNT only when the caller asks for one.
      // A spy that calls through: it only records the statements the store's connections send.
      const spy = vi.spyOn(pg.Client.prototype, 'query');
      const sent = () => spy.mock.calls.map(([text]) => (typeof text === 'string' ? text : String((text as { text?: string })?.text)));
      const page = await store.listJobs({ state: 'FAILED', limit: 50 });
      expect(page.items).toHaveLength(50);
      expect(page.total).toBeUndefined();
      expect(page.nextCursor).toBeDefined();
      expect(sent().filter((text) => /\bFROM jobs\b/.test(text))).toHaveLength(1);
      expect(sent().some((text) => /COUNT\(/i.test(text))).toBe(false);
      const next = await store.listJobs({ state: 'FAILED', limit: 50, cursor: page.nextCursor! });
      expect(next.items[0]!.seq).toBeLessThan(page.items.at(-1)!.seq);
      expect(sent().some((text) => /COUNT\(/i.test(text))).toBe(false);
      expect((await store.listJobs({ state: 'FAILED', limit: 1, count: 'exact' })).total).toBe(JOBS / 4);
      expect(sent().some((text) => /COUNT\(/i.test(text))).toBe(true);
    } finally {
      await db.destroy();
      await store.close();
      await fresh.dispose();
    }
  });
});

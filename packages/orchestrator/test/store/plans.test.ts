import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgres } from '@myrmex/test-utils';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresStore, SqliteStore } from '../../src/index.js';
import { admitNextStatement } from '../../src/store/sql/admit-next.js';
import { claimNextStatement } from '../../src/store/sql/claim-next.js';
import { hotQueries, jobFilter } from '../../src/store/sql/hot-queries.js';
import { prepareTransition, transitionWrites } from '../../src/store/sql/transitions.js';
import { PLANNER_PRAGMAS } from '../../src/store/sqlite/sqlite-store.js';

/**
 * Every query a queen runs all the time must read only what it needs however long the history:
 * an index range scan, or an ordered walk of a partial index that holds only the wanted rows.
 * Never a scan of a table, never a sort of the whole queue.
 */
const NOW = 1_900_000_000_000;
// A job's own tasks may be sorted: they are as many as its definition has tasks, whatever the history;
// so may the running jobs (as many as the ants run), which PostgreSQL may read from the admitted index.
const SORT_OK = new Set(['tasks', 'jobsWithTasks', 'runnableJobs']);
// Reads by key that must start from the key, not from an index the planner guesses is small.
const BY_KEY: Readonly<Record<string, RegExp>> = { jobStates: /^SEARCH \w+ USING INDEX sqlite_autoindex_jobs_1 \(id=\?\)$/ };
// Reads of the jobs by state walk the partial index holding only those states (migration 0021), in both databases.
const INDEX_OF: Readonly<Record<string, RegExp>> = {
  duePendingJobs: /\bjobs_pending\b/,
  admittedByType: /\bjobs_type_admitted\b/,
  'admittedByType of two types': /\bjobs_type_admitted\b/,
  runnableJobs: /\bjobs_(unended|type_admitted)\b/,
  'jobPage of a state': /\bjobs_ended\b/,
  'jobPage of a live state': /\bjobs_unended\b/,
};
const samples = [
  ['job', hotQueries.job('j1')],
  ['tasks', hotQueries.tasks('j1')],
  ['jobsWithTasks', hotQueries.jobsWithTasks(['j1', 'j2'])],
  ['jobStates', hotQueries.jobStates(Array.from({ length: 16 }, (_, i) => `j${i}`))],
  ['timeline', hotQueries.timeline('j1')],
  ['logs', hotQueries.logs('j1', 10, 1000)],
  ['logs of a task', hotQueries.logs('j1', 10, 1000, 'a')],
  ['duePendingJobs', hotQueries.duePendingJobs(NOW, 500, 0)],
  ['readyTasks', hotQueries.readyTasks(NOW, 64, 0)],
  ['expiredJobs', hotQueries.expiredJobs(NOW)],
  ['expiredAttempts', hotQueries.expiredAttempts(NOW, 100)],
  ['lapsedApprovals', hotQueries.lapsedApprovals(NOW, 100)],
  ['jobPage', hotQueries.jobPage([], 500_000, 51, 0)],
  ['jobPage of a state', hotQueries.jobPage(jobFilter({ state: 'COMPLETED' }), 500_000, 51, 0)],
  ['jobPage of a live state', hotQueries.jobPage(jobFilter({ state: 'READY' }), 500_000, 51, 0)],
  ['admittedByType', hotQueries.admittedByType()],
  ['admittedByType of two types', hotQueries.admittedByType(['build', 'deploy'])],
  ['runnableJobs', hotQueries.runnableJobs()],
  ['jobPage of a job type', hotQueries.jobPage([sql`job_type = ${'build'}`], 500_000, 51, 0)],
  ['jobPage of an organisation', hotQueries.jobPage([sql`org = ${'default'}`], 500_000, 51, 0)],
] as const;

const dir = mkdtempSync(join(tmpdir(), 'myrmex-plans-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A connection to a migrated SQLite file, planning as the store's own connection does. */
async function sqliteFile(name: string) {
  const path = join(dir, name);
  const store = SqliteStore.open({ path });
  await store.opened();
  await store.close();
  const raw = new BetterSqlite3(path);
  for (const pragma of PLANNER_PRAGMAS) raw.pragma(pragma);
  return { raw, db: new Kysely<unknown>({ dialect: new SqliteDialect({ database: raw }) }) };
}

describe('hot queries on SQLite (EXPLAIN QUERY PLAN)', () => {
  it('are index searches or walks of partial indexes, with no full scan and no sort', async () => {
    const { raw, db } = await sqliteFile('plans.db');
    try {
      for (const [name, query] of samples) {
        const compiled = query.compile(db);
        const plan = (raw.prepare(`EXPLAIN QUERY PLAN ${compiled.sql}`).all(...compiled.parameters) as { detail: string }[])
          .map((row) => row.detail)
          .join('; ');
        expect(plan, name).not.toMatch(/\bSCAN (jobs|tasks|attempts|events|logs|j|t)\b(?! USING (COVERING )?INDEX)/);
        if (!SORT_OK.has(name)) expect(plan, name).not.toMatch(/TEMP B-TREE/);
        if (BY_KEY[name]) expect(plan, name).toMatch(BY_KEY[name]);
        if (INDEX_OF[name]) expect(plan, name).toMatch(INDEX_OF[name]);
      }
    } finally {
      await db.destroy();
    }
  });
});

describe('grouped transition writes on SQLite (EXPLAIN QUERY PLAN)', () => {
  it('look each row of an admission page up by key, never scanning jobs or tasks', async () => {
    const { raw, db } = await sqliteFile('grouped.db');
    try {
      // A page of 500 admissions: each job PENDING -> READY with its task, the shape the supervisor writes.
      const transitions = Array.from({ length: 500 }, (_, i) =>
        prepareTransition(
          `j${i}`,
          { at: new Date(NOW), job: { state: 'READY', reason: 'admitted' }, tasks: [{ taskType: 'a', state: 'READY', reason: 'ready' }] },
          [{ id: `j${i}`, job_state: 'PENDING', revision: 0, job_type: 'build', task_type: 'a', state: 'PENDING', attempt: 0 }],
        ),
      );
      const writes = transitionWrites(transitions);
      expect(writes.map((w) => w.compile(db).sql.slice(0, 12))).toEqual(['UPDATE tasks', 'UPDATE jobs ']);
      for (const write of writes) {
        const compiled = write.compile(db);
        const plan = (raw.prepare(`EXPLAIN QUERY PLAN ${compiled.sql}`).all(...compiled.parameters) as { detail: string }[])
          .map((row) => row.detail)
          .join('; ');
        // Without the planner settings: SCAN jobs (or tasks) with an automatic index on the VALUES list.
        expect(plan).not.toMatch(/\bSCAN (jobs|tasks)\b|AUTOMATIC/);
        expect(plan).toMatch(/SEARCH (jobs|tasks) USING (COVERING )?INDEX sqlite_autoindex_(jobs|tasks)_1/);
      }
    } finally {
      await db.destroy();
    }
  });
});

const gate = await postgres();

/** A fresh PostgreSQL database migrated by a store, one connection to it, and a Kysely to compile queries for it. */
async function onMigratedDatabase(run: (client: pg.PoolClient, db: Kysely<unknown>) => Promise<void>): Promise<void> {
  const fresh = await gate.freshDatabase();
  const store = PostgresStore.open({ url: fresh.url });
  await store.opened();
  await store.close();
  const pool = new pg.Pool({ connectionString: fresh.url, max: 1 });
  pool.on('error', () => undefined);
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  const client = await pool.connect();
  try {
    await run(client, db);
  } finally {
    client.release();
    await db.destroy();
    await fresh.dispose();
  }
}

gate.describe('hot queries on PostgreSQL (EXPLAIN)', () => {
  it('can all be served by an index: with sequential scans priced out, none is chosen and nothing is sorted', async () => {
    await onMigratedDatabase(async (client, db) => {
      await client.query('SET enable_seqscan = off');
      await client.query('SET enable_bitmapscan = off');
      for (const [name, query] of samples) {
        const compiled = query.compile(db);
        const { rows } = await client.query(`EXPLAIN ${compiled.sql}`, [...compiled.parameters]);
        const plan = rows.map((row: Record<string, string>) => row['QUERY PLAN']).join('\n');
        expect(plan, name).not.toMatch(/Seq Scan/);
        if (!SORT_OK.has(name)) expect(plan, name).not.toMatch(/\bSort\b/);
        if (INDEX_OF[name]) expect(plan, name).toMatch(INDEX_OF[name]);
      }
    });
  });
});

/**
 * On PostgreSQL, reads of jobs by id (one, a list, a prefix) and the organisation's quota counts name
 * the index they search, with the key as its condition. Migration 0024 keeps one index on the id, the
 * unique one with text_pattern_ops, which serves equality and the prefix alike.
 */
const ORG_WINDOW = sql`SELECT COUNT(*) AS n FROM jobs WHERE org = ${'acme'} AND submitted_at > ${NOW - 60_000} AND submitted_at <= ${NOW}`;
const ORG_UNENDED = sql`SELECT COUNT(*) AS unended FROM jobs WHERE org = ${'acme'} AND state IN ('PENDING', 'READY', 'EXECUTING', 'PAUSED')`;
const PG_SEARCHES = [
  ['job', hotQueries.job('j1'), /Index Scan using jobs_id on jobs[^\n]*\n\s+Index Cond: \(id = /],
  [
    'jobStates',
    hotQueries.jobStates(Array.from({ length: 16 }, (_, i) => `j${i}`)),
    /Index Scan using jobs_id on jobs[^\n]*\n\s+Index Cond: \(id = ANY /,
  ],
  ['jobsWithTasks', hotQueries.jobsWithTasks(['j1', 'j2']), /Index Scan using jobs_id on jobs j[^\n]*\n\s+Index Cond: \(id = ANY /],
  [
    'an id prefix',
    sql`SELECT id FROM jobs WHERE id LIKE ${'abc%'}`,
    /using jobs_id on jobs[^\n]*\n\s+Index Cond: \(\(id ~>=~ 'abc'::text\) AND \(id ~<~ 'abd'::text\)\)/,
  ],
  // The timeline's primary key is (job_id, seq) since migration 0025, its only index.
  ['timeline', hotQueries.timeline('j1'), /Index Scan using events_pkey on events[^\n]*\n\s+Index Cond: \(job_id = /],
  // checkOrgQuota (security.ts): the submission-rate window, and the unfinished jobs of a capped organisation.
  ['the rate window of an organisation', ORG_WINDOW, /using jobs_org_submitted on jobs[^\n]*\n\s+Index Cond: \(\(org = /],
  ['the unfinished jobs of an organisation', ORG_UNENDED, /using jobs_org_unended on jobs[^\n]*\n\s+Index Cond: \(org = /],
] as const;

gate.describe('reads of jobs by key on PostgreSQL (EXPLAIN)', () => {
  it('search the index of their key, the id ones the unique text_pattern_ops index', async () => {
    await onMigratedDatabase(async (client, db) => {
      await client.query('SET enable_seqscan = off');
      await client.query('SET enable_bitmapscan = off');
      for (const [name, query, expected] of PG_SEARCHES) {
        const compiled = query.compile(db);
        // A prefix is planned from its value, as the job list's filter is (a custom plan for each).
        const text = name === 'an id prefix' ? compiled.sql.replace('$1', "'abc%'") : compiled.sql;
        const { rows } = await client.query(`EXPLAIN ${text}`, name === 'an id prefix' ? [] : [...compiled.parameters]);
        const plan = rows.map((row: Record<string, string>) => row['QUERY PLAN']).join('\n');
        expect(plan, name).toMatch(expected);
      }
      const timeline = await client.query(`SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'events'`);
      expect(timeline.rows).toEqual([
        {
          indexname: 'events_pkey',
          indexdef: expect.stringMatching(/^CREATE UNIQUE INDEX events_pkey ON \S*events USING btree \(job_id, seq\)$/),
        },
      ]);
      // One index on the id, unique: the constraint's own and the prefix copy are gone.
      const { rows } = await client.query(
        `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'jobs' AND indexdef LIKE '%(id%' ORDER BY indexname`,
      );
      expect(rows).toEqual([
        {
          indexname: 'jobs_id',
          indexdef: expect.stringMatching(/^CREATE UNIQUE INDEX jobs_id ON \S*jobs USING btree \(id text_pattern_ops\)$/),
        },
      ]);
    });
  });
});

interface PlanNode {
  readonly 'Node Type': string;
  readonly 'Relation Name'?: string;
  readonly 'Index Name'?: string;
  readonly 'Actual Rows'?: number;
  readonly 'Actual Loops'?: number;
  readonly Plans?: readonly PlanNode[];
}
const nodesOf = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodesOf)];

gate.describe('the pick and claim of ready tasks on PostgreSQL (EXPLAIN ANALYZE, 12,000 queued)', () => {
  it('walks the ready index for as many rows as it claims: no scan of the queue, no sort under its limit', async () => {
    const queued = 12_000;
    const limit = 16;
    await onMigratedDatabase(async (client, db) => {
      // A queue of single-task jobs of one kind, all admitted, with statistics as a queen keeps them fresh.
      await client.query(
        `INSERT INTO jobs (id, job_type, version, state, priority, params, submitted_at, scheduled_at)
         SELECT 'job-' || n, 'bench', 1, 'READY', 50, '{}', n, n FROM generate_series(1, $1::int) AS n`,
        [queued],
      );
      await client.query(
        `INSERT INTO tasks (job_id, task_type, position, state, priority, job_seq)
         SELECT id, 'only', 0, 'READY', priority, seq FROM jobs`,
      );
      await client.query('ANALYZE jobs; ANALYZE tasks');
      const compiled = claimNextStatement(
        { antId: 'ant', at: new Date(NOW), limit, take: [{ jobType: 'bench', version: 1, taskType: 'only' }], skip: [] },
        sql``,
      ).compile(db);
      await client.query('BEGIN');
      const { rows } = await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${compiled.sql}`, [...compiled.parameters]);
      await client.query('ROLLBACK');
      const root = (rows[0] as { 'QUERY PLAN': { Plan: PlanNode }[] })['QUERY PLAN'][0]!.Plan;
      const nodes = nodesOf(root);
      // What the assertions name when they fail: the plan's nodes, outermost first.
      const text = nodes.map((n) => `${n['Node Type']} ${n['Index Name'] ?? n['Relation Name'] ?? ''}`.trim()).join(' > ');
      expect(
        nodes.filter((n) => n['Node Type'] === 'Seq Scan' && ['jobs', 'tasks'].includes(n['Relation Name'] ?? '')),
        text,
      ).toEqual([]);
      // The walk: a limit over the row locks over the join driven by the ready index, nothing sorted below it.
      const walk = nodes.find((n) => n['Node Type'] === 'Limit' && n.Plans?.[0]?.['Node Type'] === 'LockRows');
      expect(walk, text).toBeDefined();
      const below = nodesOf(walk!);
      expect(
        below.some((n) => n['Node Type'] === 'Sort'),
        text,
      ).toBe(false);
      const ready = below.find((n) => n['Index Name'] === 'tasks_ready');
      expect(ready, text).toBeDefined();
      // Rows read from the ready index: the claimed ones, not the queue.
      expect(ready!['Actual Rows']! * (ready!['Actual Loops'] ?? 1)).toBeLessThanOrEqual(limit);
      expect(walk!['Actual Rows']).toBe(limit);
    });
  }, 60_000);
});

gate.describe('the admission of due jobs in one statement on PostgreSQL (EXPLAIN ANALYZE, 12,000 queued)', () => {
  it('walks the due index for as many rows as it admits, and counts max_concurrency from the admitted index', async () => {
    const queued = 12_000;
    const limit = 100;
    await onMigratedDatabase(async (client, db) => {
      // A queue of single-task jobs of one capped kind, all due, with statistics as a queen keeps them fresh.
      await client.query(
        `INSERT INTO jobs (id, job_type, version, state, priority, params, submitted_at, scheduled_at)
         SELECT 'job-' || n, 'bench', 1, 'PENDING', 50, '{}', n, n FROM generate_series(1, $1::int) AS n`,
        [queued],
      );
      await client.query(
        `INSERT INTO tasks (job_id, task_type, position, state, priority, job_seq)
         SELECT id, 'only', 0, 'PENDING', priority, seq FROM jobs`,
      );
      await client.query('ANALYZE jobs; ANALYZE tasks');
      const compiled = admitNextStatement(
        { at: new Date(NOW), limit, take: [{ jobType: 'bench', version: 1, start: ['only'], maxConcurrency: 1_000_000 }] },
        sql``,
      ).compile(db);
      await client.query('BEGIN');
      const { rows } = await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${compiled.sql}`, [...compiled.parameters]);
      await client.query('ROLLBACK');
      const root = (rows[0] as { 'QUERY PLAN': { Plan: PlanNode }[] })['QUERY PLAN'][0]!.Plan;
      const nodes = nodesOf(root);
      const text = nodes.map((n) => `${n['Node Type']} ${n['Index Name'] ?? n['Relation Name'] ?? ''}`.trim()).join(' > ');
      expect(
        nodes.filter((n) => n['Node Type'] === 'Seq Scan' && ['jobs', 'tasks'].includes(n['Relation Name'] ?? '')),
        text,
      ).toEqual([]);
      // The pick: a limit over the row locks over a walk of the due index, nothing sorted below it.
      const walk = nodes.find((n) => n['Node Type'] === 'Limit' && n.Plans?.[0]?.['Node Type'] === 'LockRows');
      expect(walk, text).toBeDefined();
      const below = nodesOf(walk!);
      expect(
        below.some((n) => n['Node Type'] === 'Sort'),
        text,
      ).toBe(false);
      const due = below.find((n) => n['Index Name'] === 'jobs_pending');
      expect(due, text).toBeDefined();
      expect(due!['Actual Rows']! * (due!['Actual Loops'] ?? 1)).toBeLessThanOrEqual(limit);
      expect(walk!['Actual Rows']).toBe(limit);
      // The type's admitted jobs are counted from the partial index of admitted jobs.
      expect(
        nodes.some((n) => n['Index Name'] === 'jobs_type_admitted'),
        text,
      ).toBe(true);
      // Every picked job was admitted: two timeline rows each (the job's, its task's).
      const insert = nodes.find((n) => n['Node Type'] === 'ModifyTable' && n['Relation Name'] === 'events');
      expect(insert?.['Actual Rows'], text).toBe(2 * limit);
    });
  }, 60_000);
});

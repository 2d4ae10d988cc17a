/**
 * The queen's memory with a long history (issue 11): `--history N` finished jobs (each with its task,
 * its attempt and three timeline rows) are written straight into a SQLite store (or, with
 * `--postgres postgres://…/db`, a PostgreSQL database the bench creates on that server) with one INSERT ...
 * SELECT per table (the submit path would take hours), then a queen opens that store, and while it
 * runs `--jobs M` new no-op jobs a client walks the whole job list by cursor, a page of 100 at a time.
 * Prints the queen's resident memory (sampled every 20 ms) after start, during the walk and runs,
 * and the process's peak. Run it with --history 0 beside it for the baseline, and with --no-walk for
 * the new jobs alone.
 *
 *   npm run bench:history -w @myrmex/orchestrator -- --history 1000000 --jobs 2000
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { type Executor, openStore, Queen, type StoreLocation, TERMINAL_JOB_STATES } from '../src/index.js';

const { values } = parseArgs({
  options: {
    history: { type: 'string', default: process.env.BENCH_HISTORY ?? '1000000' },
    jobs: { type: 'string', default: process.env.BENCH_JOBS ?? '2000' },
    // --no-walk: the new jobs alone, to tell the walk's cost from the history's.
    walk: { type: 'boolean', default: true },
    // The server to create the bench's own PostgreSQL database on (dropped afterwards); absent: SQLite.
    postgres: { type: 'string' },
  },
  allowNegative: true,
});
const HISTORY = Number(values.history);
const JOBS = Number(values.jobs);
for (const [name, n] of [
  ['history', HISTORY],
  ['jobs', JOBS],
] as const) {
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be an integer >= 0, got '${values[name]}'`);
}

const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
const NOOP: Executor = { method: 'NOOP', execute: async () => ({ exitCode: 0, succeeded: true }) };
const DEFINITION = 'job_type: history\ntasks:\n  - task_type: only\n    method: NOOP\n';

/** The most resident memory seen since the last `take()`. */
class RssSampler {
  private peak = 0;
  private readonly timer = setInterval(() => this.sample(), 20);
  sample(): void {
    this.peak = Math.max(this.peak, process.memoryUsage.rss());
  }
  take(): number {
    this.sample();
    const peak = this.peak;
    this.peak = 0;
    return peak;
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

/**
 * Finished jobs written as the store writes them: UUIDv7-shaped ids that append, one task, one
 * attempt, three timeline rows. Only the series and the id differ between the dialects.
 */
function historyStatements(dialect: 'sqlite' | 'postgres', n: number, base: number): string[] {
  const [series, from, id] =
    dialect === 'sqlite'
      ? [
          `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${n}) `,
          's',
          `printf('%012x-7000-8000-%012x', ${base} + i * 10, i)`,
        ]
      : [
          '',
          `generate_series(1, ${n}) AS s(i)`,
          `lpad(to_hex(${base}::bigint + i * 10), 12, '0') || '-7000-8000-' || lpad(to_hex(i), 12, '0')`,
        ];
  return [
    `${series}INSERT INTO jobs (id, job_type, version, state, priority, params, submitted_at, scheduled_at, started_at, ended_at, revision)
     SELECT ${id}, 'history', 1, 'COMPLETED', 0, '{"n":' || i || '}', ${base} + i * 10, ${base} + i * 10, ${base} + i * 10 + 1, ${base} + i * 10 + 2, 3 FROM ${from}`,
    `INSERT INTO tasks (job_id, task_type, position, state, attempt, run_attempts, exit_code, outputs, ended_at, job_seq)
     SELECT id, 'only', 0, 'COMPLETED', 1, 1, 0, '{}', ended_at, seq FROM jobs WHERE job_type = 'history'`,
    `INSERT INTO attempts (job_id, task_type, attempt, state, exit_code, started_at, ended_at, ant_id)
     SELECT id, 'only', 1, 'COMPLETED', 0, started_at, ended_at, 'bench' FROM jobs WHERE job_type = 'history'`,
    `INSERT INTO events (job_id, task_type, from_state, to_state, at, reason)
     SELECT id, NULL, NULL, 'PENDING', submitted_at, 'submitted' FROM jobs WHERE job_type = 'history'
     UNION ALL SELECT id, 'only', 'READY', 'EXECUTING', started_at, 'attempt 1' FROM jobs WHERE job_type = 'history'
     UNION ALL SELECT id, NULL, 'EXECUTING', 'COMPLETED', ended_at, 'all tasks completed' FROM jobs WHERE job_type = 'history'`,
  ];
}

/** Writes the history in one transaction and returns the store's size in MB. */
async function writeHistory(location: StoreLocation, n: number): Promise<number> {
  const base = Date.now() - n * 10;
  if (location.kind === 'sqlite') {
    const db = new BetterSqlite3(location.path);
    if (n > 0) {
      db.transaction(() => {
        for (const statement of historyStatements('sqlite', n, base)) db.exec(statement);
      })();
      db.exec('ANALYZE');
    }
    db.close();
    return mb(statSync(location.path).size);
  }
  const client = new pg.Client({ connectionString: location.url });
  await client.connect();
  try {
    if (n > 0) {
      await client.query('BEGIN');
      for (const statement of historyStatements('postgres', n, base)) await client.query(statement);
      await client.query('COMMIT');
      await client.query('ANALYZE');
    }
    return mb(Number((await client.query<{ size: string }>('SELECT pg_database_size(current_database()) AS size')).rows[0]!.size));
  } finally {
    await client.end();
  }
}

/** A store of its own: a SQLite file in a temporary folder, or a database created on the server `--postgres` names. */
async function freshStore(): Promise<{ location: StoreLocation; dispose(): Promise<void> }> {
  if (values.postgres === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'myrmex-history-'));
    return {
      location: { kind: 'sqlite', path: join(dir, 'store.db') },
      dispose: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const name = `myrmex_history_${process.pid}`;
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: values.postgres });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(values.postgres);
  url.pathname = `/${name}`;
  return { location: { kind: 'postgres', url: url.toString() }, dispose: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

const sampler = new RssSampler();
const { location, dispose } = await freshStore();
try {
  // The schema first (and the definition), then the history beside it.
  const setup = await Queen.open({ store: await openStore(location), executors: [NOOP], ant: { capacity: 0 } });
  await setup.applyDefinition(DEFINITION);
  await setup.stop();
  let began = performance.now();
  const storeMb = await writeHistory(location, HISTORY);
  const written = (performance.now() - began) / 1000;
  sampler.take();

  const queen = await Queen.open({ store: await openStore(location), executors: [NOOP], ant: { capacity: 16 } });
  await queen.start();
  const started = mb(sampler.take());

  // New jobs run while the whole history is walked by cursor.
  began = performance.now();
  const submitted: string[] = [];
  const runs = (async () => {
    for (let i = 0; i < JOBS; i += 100) {
      const page = await queen.submitMany(Array.from({ length: Math.min(100, JOBS - i) }, () => ({ jobType: 'history' })));
      submitted.push(...page.map((job) => job.id));
    }
  })();
  let pages = 0;
  let listed = 0;
  let cursor: string | undefined;
  while (values.walk) {
    const page = await queen.listJobs({ limit: 100, ...(cursor === undefined ? {} : { cursor }) });
    pages++;
    listed += page.items.length;
    cursor = page.nextCursor;
    if (cursor === undefined) break;
  }
  const walked = (performance.now() - began) / 1000;
  await runs;
  for (const id of submitted) {
    for (;;) {
      const job = await queen.getJob(id);
      if (job && TERMINAL_JOB_STATES.includes(job.state)) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  const ran = (performance.now() - began) / 1000;
  const during = mb(sampler.take());
  await queen.stop();
  const peak = Math.round(process.resourceUsage().maxRSS / 1024);
  console.log(
    JSON.stringify({
      history: HISTORY,
      jobs: JOBS,
      historyWrittenSeconds: Number(written.toFixed(1)),
      store: location.kind,
      storeMb,
      rssAfterStartMb: started,
      rssPeakDuringWalkAndRunsMb: during,
      processPeakRssMb: peak,
      pagesWalked: pages,
      jobsListed: listed,
      walkSeconds: Number(walked.toFixed(1)),
      newJobsEndedSeconds: Number(ran.toFixed(1)),
      node: process.version,
      cpus: cpus().length,
      load: loadavg().map((l) => Number(l.toFixed(1))),
      at: new Date().toISOString(),
    }),
  );
} finally {
  sampler.stop();
  await dispose();
}

/**
 * Remote ants against the embedded ant: single-task NOOP jobs in one burst, run (1) by the queen's
 * embedded ant, (2) by remote ants over WebSocket on loopback (RemoteAnt clients in this process,
 * so both runs pay the same CPU; the difference is the protocol: assign, ack, result, result-ack,
 * each result recorded before it is acknowledged). Reports jobs/s and submit-to-start p50/p99,
 * and the per-ant ceiling (one remote ant with a large capacity).
 * Sizes: --jobs N (BENCH_JOBS, default 10000) --ants N (BENCH_ANTS, 4) --capacity N per ant
 * (BENCH_CAPACITY, 16); --db postgres://… (BENCH_DB) runs on PostgreSQL instead of a SQLite file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  antSocketRoutes,
  createApi,
  type JobStore,
  openStore,
  Queen,
  RemoteAnt,
  staticAntTokens,
  TERMINAL_JOB_STATES,
} from '@myrmex/orchestrator';
import { pino } from 'pino';
import { noopExecutor } from './noop.js';
import { percentile } from './sizes.js';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: process.env.BENCH_JOBS ?? '10000' },
    ants: { type: 'string', default: process.env.BENCH_ANTS ?? '4' },
    capacity: { type: 'string', default: process.env.BENCH_CAPACITY ?? '16' },
    db: { type: 'string', default: process.env.BENCH_DB ?? '' },
  },
});
const count = (name: string, text: string) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be an integer >= 1, got '${text}'`);
  return n;
};
const JOBS = count('jobs', values.jobs);
const ANTS = count('ants', values.ants);
const CAPACITY = count('capacity', values.capacity);
const TOKEN = 'bench-remote-ants-token-0123456789';
const SINGLE = 'job_type: bench-single\ntasks:\n  - task_type: only\n    method: NOOP\n';
const silent = pino({ level: 'silent' });

/** A fresh store per scenario, and how to remove it afterwards. */
async function freshStore(dir: string, name: string): Promise<{ store: JobStore; dispose: () => Promise<void> }> {
  if (!values.db) return { store: await openStore(join(dir, `${name}.db`)), dispose: async () => {} };
  // A fresh schema per scenario on the given server: a database named after the run.
  const { default: pg } = await import('pg');
  const admin = new pg.Client({ connectionString: values.db });
  await admin.connect();
  const database = `bench_ants_${name.replace(/\W/g, '_')}_${process.pid}`;
  await admin.query(`DROP DATABASE IF EXISTS ${database}`);
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  const url = new URL(values.db);
  url.pathname = `/${database}`;
  const dispose = async () => {
    const client = new pg.Client({ connectionString: values.db });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await client.end();
  };
  return { store: await openStore(url.toString()), dispose };
}

async function scenario(name: string, ants: number, capacity: number, remote: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'myrmex-bench-ants-'));
  const { store, dispose } = await freshStore(dir, name);
  const queen = await Queen.open({ store, ant: { capacity: remote ? 0 : ants * capacity }, executors: [noopExecutor], logger: silent });
  const clients: RemoteAnt[] = [];
  let app: Awaited<ReturnType<typeof createApi>> | undefined;
  try {
    await queen.start();
    if (remote) {
      const authenticateAnt = staticAntTokens(TOKEN);
      app = await createApi(queen, {
        extend: (scope) => antSocketRoutes(scope, { hub: queen.remoteAnts, authenticateAnt, drain: (id) => queen.drainAnt(id) }),
      });
      await app.listen({ host: '127.0.0.1', port: 0 });
      const address = app.server.address();
      const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
      const connected: Promise<void>[] = [];
      for (let i = 0; i < ants; i++) {
        let ready: () => void = () => {};
        connected.push(new Promise((resolve) => (ready = resolve)));
        const ant = new RemoteAnt({
          servers: [url],
          token: TOKEN,
          id: `bench-${i}`,
          capacity,
          executors: [noopExecutor],
          methods: ['NOOP'],
          stateDir: join(dir, `ant-${i}`),
          logger: silent,
          onConnection: (queenId) => queenId && ready(),
        });
        clients.push(ant);
        await ant.start();
      }
      await Promise.all(connected);
    }
    await queen.applyDefinition(SINGLE);
    const submitted = new Map<string, number>();
    const delays: number[] = [];
    let done = 0;
    let all: () => void = () => {};
    const finished = new Promise<void>((resolve) => (all = resolve));
    queen.onTransition((event) => {
      if (event.taskType !== undefined) return;
      if (event.to === 'EXECUTING' && event.from === 'READY') delays.push(event.at.getTime() - submitted.get(event.jobId)!);
      if ((TERMINAL_JOB_STATES as readonly string[]).includes(event.to) && ++done === JOBS) all();
    });
    const began = performance.now();
    for (let i = 0; i < JOBS; i += 500) {
      const batch = await queen.submitMany(Array.from({ length: Math.min(500, JOBS - i) }, () => ({ jobType: 'bench-single' })));
      for (const job of batch) submitted.set(job.id, job.submittedAt.getTime());
    }
    await finished;
    const seconds = (performance.now() - began) / 1000;
    const failedJobs = await queen.listJobs({ state: 'FAILED', limit: 1000, count: 'exact' });
    const failed = failedJobs.total ?? 0;
    // Why they failed, counted by reason (a benchmark that hides its failures measures nothing).
    const reasons = new Map<string, number>();
    for (const job of failedJobs.items.slice(0, 200)) {
      const reason = (await queen.getJob(job.id))?.tasks[0]?.attempts.at(-1)?.reason ?? 'unknown';
      const key = reason.replace(/[0-9a-f-]{36}/g, '<id>');
      reasons.set(key, (reasons.get(key) ?? 0) + 1);
    }
    if (failed > 0) console.log(`${name}: ${failed} failed; reasons of the first ${Math.min(200, failed)}:`, Object.fromEntries(reasons));
    delays.sort((a, b) => a - b);
    return {
      scenario: name,
      jobs: JOBS,
      failed,
      'wall s': Number(seconds.toFixed(2)),
      'jobs/s': Math.round(JOBS / seconds),
      'p50 submit->start ms': percentile(delays, 50),
      'p99 submit->start ms': percentile(delays, 99),
    };
  } finally {
    for (const ant of clients) await ant.stop();
    await app?.close();
    await queen.stop();
    await dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

const store = values.db ? 'PostgreSQL' : 'SQLite';
console.log(`# remote vs embedded ants, ${JOBS} single-task NOOP jobs in one burst, on ${store}`);
const rows = [
  await scenario(`embedded ant, capacity ${ANTS * CAPACITY}`, ANTS, CAPACITY, false),
  await scenario(`${ANTS} remote ants x capacity ${CAPACITY}`, ANTS, CAPACITY, true),
  await scenario(`1 remote ant x capacity ${ANTS * CAPACITY} (per-ant ceiling)`, 1, ANTS * CAPACITY, true),
];
console.table(rows);
const [embedded, spread, single] = rows as [(typeof rows)[0], (typeof rows)[0], (typeof rows)[0]];
console.log(
  `remote/embedded jobs/s: ${(spread['jobs/s'] / embedded['jobs/s']).toFixed(2)}x (${ANTS} ants), ${(single['jobs/s'] / embedded['jobs/s']).toFixed(2)}x (one ant)`,
);

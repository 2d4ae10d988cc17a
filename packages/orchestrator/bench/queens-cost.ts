/**
 * What several queens cost on one PostgreSQL, without process start-up or another process's JIT in the way
 * (issue 11): `node --conditions=source --import tsx bench/queens-cost.ts <queens> <jobs>` opens that many
 * queens in this process, each with its own pool and an embedded ant of 16, bulk-submits single-task no-op
 * jobs, starts them all and prints the drain rate, scheduler passes, statements per job by kind (count and
 * mean latency), and CPU per job of this process (the queens) and of the PostgreSQL backends serving this
 * database (read from /proc). CPU per job is what bounds the drain on a given number of cores.
 */

import { readdirSync, readFileSync } from 'node:fs';
import { PostgresStore, Queen, TERMINAL_JOB_STATES } from '@myrmex/orchestrator';
import { postgres } from '@myrmex/test-utils';
import pg from 'pg';
import { noopExecutor } from './noop.js';

const N = Number(process.argv[2] ?? 1);
const JOBS = Number(process.argv[3] ?? 3000);
if (!Number.isInteger(N) || N < 1) throw new Error(`queens must be a positive integer, got '${process.argv[2]}'`);
if (!Number.isInteger(JOBS) || JOBS < 1) throw new Error(`jobs must be a positive integer, got '${process.argv[3]}'`);
const kinds = new Map<string, { n: number; ms: number }>();
let counting = false;
const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  const first = args[0];
  const text = typeof first === 'string' ? first : ((first as { text?: string } | undefined)?.text ?? '');
  const kind = text.replace(/\s+/g, ' ').trim().slice(0, 50);
  const began = performance.now();
  const result = query.apply(this, args) as Promise<unknown> | undefined;
  if (counting && result && typeof (result as Promise<unknown>).then === 'function') {
    const k = kinds.get(kind) ?? { n: 0, ms: 0 };
    kinds.set(kind, k);
    k.n++;
    (result as Promise<unknown>).then(
      () => (k.ms += performance.now() - began),
      () => (k.ms += performance.now() - began),
    );
  }
  return result;
} as typeof pg.Client.prototype.query;

const gate = await postgres();
const db = await gate.freshDatabase();
const queens: Queen[] = [];
for (let i = 0; i < N; i++)
  queens.push(
    await Queen.open({ store: PostgresStore.open({ url: db.url, poolSize: 8 }), ant: { capacity: 16 }, executors: [noopExecutor] }),
  );
await queens[0]!.applyDefinition('job_type: bench-noop\ntasks:\n  - task_type: only\n    method: NOOP\n');
for (let i = 0; i < JOBS; i += 1000)
  await queens[0]!.submitMany(Array.from({ length: Math.min(1000, JOBS - i) }, () => ({ jobType: 'bench-noop' })));
let ended = 0;
const passes = { n: 0, started: 0, admitted: 0 };
const all = new Promise<void>((resolve) => {
  for (const q of queens) {
    q.onTransition((e) => {
      if (e.taskType === undefined && (TERMINAL_JOB_STATES as readonly string[]).includes(e.to) && ++ended === JOBS) resolve();
    });
    q.onSchedulerPass((r) => {
      passes.n++;
      passes.started += r.started;
      passes.admitted += r.admitted;
    });
  }
});
const dbName = new URL(db.url).pathname.slice(1);
const pgCpuMs = () => {
  let ms = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dbName)) continue;
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ms += (Number(fields[11]) + Number(fields[12])) * 10;
    } catch {}
  }
  return ms;
};
counting = true;
const pgBefore = pgCpuMs();
const cpuBefore = process.cpuUsage();
const began = performance.now();
await Promise.all(queens.map((q) => q.start()));
await all;
const ms = performance.now() - began;
const cpu = process.cpuUsage(cpuBefore);
const pgMs = pgCpuMs() - pgBefore;
counting = false;
console.log(
  `CPU ms per job: queens ${((cpu.user + cpu.system) / 1000 / JOBS).toFixed(2)}, PostgreSQL backends ${(pgMs / JOBS).toFixed(2)}`,
);
console.log(
  `${N} queens, ${JOBS} jobs: ${((JOBS / ms) * 1000).toFixed(0)} jobs/s; passes ${passes.n} (${(passes.n / JOBS).toFixed(2)}/job)`,
);
const total = [...kinds.values()].reduce((a, b) => a + b.n, 0);
console.log(`${(total / JOBS).toFixed(2)} statements per job`);
for (const [kind, k] of [...kinds].sort((a, b) => b[1].ms - a[1].ms).slice(0, 14))
  console.log(
    `${(k.n / JOBS).toFixed(3).padStart(7)}/job ${(k.ms / k.n).toFixed(1).padStart(7)} ms avg ${k.ms.toFixed(0).padStart(7)} ms  ${kind}`,
  );
for (const q of queens) await q.stop();
await db.dispose();
process.exit(0);

/**
 * Orchestrator throughput on the embedded SQLite store: single-task NOOP jobs and ten-task DAGs,
 * submitted in one burst (the delay then is mostly queueing), and single-task jobs submitted at a
 * steady rate below capacity (the delay is the scheduler's reaction time). Reports jobs/s and the
 * p50/p99 delay from submit to the job's first task starting.
 * Sizes: --jobs N --dags N --paced N --rate N --capacity N (or BENCH_JOBS, BENCH_DAGS, BENCH_PACED,
 * BENCH_RATE, BENCH_CAPACITY).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Queen, TERMINAL_JOB_STATES } from '@myrmex/orchestrator';
import { noopExecutor } from './noop.js';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: process.env.BENCH_JOBS ?? '10000' },
    dags: { type: 'string', default: process.env.BENCH_DAGS ?? '1000' },
    paced: { type: 'string', default: process.env.BENCH_PACED ?? '1000' },
    rate: { type: 'string', default: process.env.BENCH_RATE ?? '100' },
    capacity: { type: 'string', default: process.env.BENCH_CAPACITY ?? '16' },
  },
});
const positive = (name: string, text: string) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be an integer >= 0, got '${text}'`);
  return n;
};
const sizes = {
  jobs: positive('jobs', values.jobs),
  dags: positive('dags', values.dags),
  paced: positive('paced', values.paced),
  rate: Math.max(1, positive('rate', values.rate)),
  capacity: positive('capacity', values.capacity),
};

const SINGLE = 'job_type: bench-single\ntasks:\n  - task_type: only\n    method: NOOP\n';
// a -> eight parallel branches -> join: ten tasks.
const DAG = [
  'job_type: bench-dag',
  'tasks:',
  '  - task_type: a',
  '    method: NOOP',
  ...Array.from({ length: 8 }, (_, i) => [`  - task_type: b${i}`, '    method: NOOP', '    dependencies: [a]']).flat(),
  '  - task_type: join',
  '    method: NOOP',
  `    dependencies: [${Array.from({ length: 8 }, (_, i) => `b${i}`).join(', ')}]`,
  '',
].join('\n');

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** `ratePerSecond` undefined: one burst; otherwise submissions are spaced evenly. */
async function scenario(name: string, jobType: string, source: string, count: number, tasksPerJob: number, ratePerSecond?: number) {
  const dir = mkdtempSync(join(tmpdir(), 'myrmex-bench-'));
  const queen = await Queen.open({ dbPath: join(dir, 'bench.db'), ant: { capacity: sizes.capacity }, executors: [noopExecutor] });
  try {
    await queen.start();
    await queen.applyDefinition(source);
    const submitted = new Map<string, number>();
    const startDelays: number[] = [];
    let done = 0;
    let resolveAll: () => void = () => {};
    const all = new Promise<void>((resolve) => {
      resolveAll = resolve;
    });
    queen.onTransition((event) => {
      if (event.taskType !== undefined) return;
      if (event.to === 'EXECUTING' && event.from === 'READY') startDelays.push(event.at.getTime() - submitted.get(event.jobId)!);
      if ((TERMINAL_JOB_STATES as readonly string[]).includes(event.to) && ++done === count) resolveAll();
    });
    const began = performance.now();
    for (let i = 0; i < count; i++) {
      if (ratePerSecond !== undefined) {
        const due = began + (i * 1000) / ratePerSecond;
        if (due > performance.now()) await new Promise((resolve) => setTimeout(resolve, due - performance.now()));
      }
      const job = await queen.submit({ jobType });
      submitted.set(job.id, job.submittedAt.getTime());
    }
    const submittedIn = performance.now() - began;
    if (count > 0) await all;
    const seconds = (performance.now() - began) / 1000;
    const failed = (await queen.listJobs({ state: 'FAILED', limit: 1 })).total;
    startDelays.sort((a, b) => a - b);
    return {
      scenario: name,
      jobs: count,
      tasks: count * tasksPerJob,
      failed,
      seconds: Number(seconds.toFixed(2)),
      'jobs/s': Math.round(count / seconds),
      'tasks/s': Math.round((count * tasksPerJob) / seconds),
      'submit ms': Math.round(submittedIn),
      'p50 submit->start ms': percentile(startDelays, 50),
      'p99 submit->start ms': percentile(startDelays, 99),
    };
  } finally {
    await queen.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`orchestrator bench: ${JSON.stringify(sizes)} on Node ${process.version}`);
const results = [
  await scenario('single-task NOOP jobs', 'bench-single', SINGLE, sizes.jobs, 1),
  await scenario('ten-task NOOP DAGs', 'bench-dag', DAG, sizes.dags, 10),
  await scenario(`single-task jobs at ${sizes.rate}/s`, 'bench-single', SINGLE, sizes.paced, 1, sizes.rate),
];
console.table(results);

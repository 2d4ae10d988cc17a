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
import { Queen, TERMINAL_JOB_STATES } from '@myrmex/orchestrator';
import { noopExecutor } from './noop.js';
import { benchSizes, pace, summarise } from './sizes.js';

const sizes = benchSizes();

const SINGLE = 'job_type: bench-single\ntasks:\n  - task_type: only\n    method: NOOP\n';
// a -> eight parallel branches -> join: ten tasks.
const DAG = [
  'job_type: bench-dag',
  'tasks:',
  '  - task_type: a',
  '    method: NOOP',
  ...Array.from({ length: 8 }, (_, i) => [`  - task_type: b${i}`, '    method: NOOP', '    needs: [a]']).flat(),
  '  - task_type: join',
  '    method: NOOP',
  `    needs: [${Array.from({ length: 8 }, (_, i) => `b${i}`).join(', ')}]`,
  '',
].join('\n');

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
      await pace(began, i, ratePerSecond);
      const job = await queen.submit({ jobType });
      submitted.set(job.id, job.submittedAt.getTime());
    }
    const submittedIn = performance.now() - began;
    if (count > 0) await all;
    const wallMs = performance.now() - began;
    const failed = (await queen.listJobs({ state: 'FAILED', limit: 1, count: 'exact' })).total ?? 0;
    return summarise(name, count, tasksPerJob, failed, wallMs, submittedIn, startDelays);
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

import { parseArgs } from 'node:util';

/** Sizes shared by the Myrmex run and its BullMQ peer, so both measure the same workload. */
export interface BenchSizes {
  readonly jobs: number;
  readonly dags: number;
  readonly paced: number;
  readonly rate: number;
  readonly capacity: number;
}

function nonNegativeInteger(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be an integer >= 0, got '${text}'`);
  return n;
}

/** --jobs N --dags N --paced N --rate N --capacity N, or BENCH_JOBS, BENCH_DAGS, BENCH_PACED, BENCH_RATE, BENCH_CAPACITY. */
export function benchSizes(): BenchSizes {
  const { values } = parseArgs({
    options: {
      jobs: { type: 'string', default: process.env.BENCH_JOBS ?? '10000' },
      dags: { type: 'string', default: process.env.BENCH_DAGS ?? '1000' },
      paced: { type: 'string', default: process.env.BENCH_PACED ?? '1000' },
      rate: { type: 'string', default: process.env.BENCH_RATE ?? '100' },
      capacity: { type: 'string', default: process.env.BENCH_CAPACITY ?? '16' },
    },
  });
  return {
    jobs: nonNegativeInteger('jobs', values.jobs),
    dags: nonNegativeInteger('dags', values.dags),
    paced: nonNegativeInteger('paced', values.paced),
    rate: Math.max(1, nonNegativeInteger('rate', values.rate)),
    capacity: Math.max(1, nonNegativeInteger('capacity', values.capacity)),
  };
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Waits until `began + i / ratePerSecond`, spacing submissions evenly; no wait for a burst. */
export async function pace(began: number, i: number, ratePerSecond: number | undefined): Promise<void> {
  if (ratePerSecond === undefined) return;
  const due = began + (i * 1000) / ratePerSecond;
  if (due > performance.now()) await new Promise((resolve) => setTimeout(resolve, due - performance.now()));
}

export interface ScenarioResult {
  readonly scenario: string;
  readonly jobs: number;
  readonly tasks: number;
  readonly failed: number;
  readonly seconds: number;
  readonly 'jobs/s': number;
  readonly 'tasks/s': number;
  readonly 'submit ms': number;
  readonly 'p50 submit->start ms': number;
  readonly 'p99 submit->start ms': number;
}

/** One result row; `startDelays` is sorted in place. */
export function summarise(
  scenario: string,
  jobs: number,
  tasksPerJob: number,
  failed: number,
  wallMs: number,
  submitMs: number,
  startDelays: number[],
): ScenarioResult {
  const seconds = wallMs / 1000;
  startDelays.sort((a, b) => a - b);
  return {
    scenario,
    jobs,
    tasks: jobs * tasksPerJob,
    failed,
    seconds: Number(seconds.toFixed(2)),
    'jobs/s': Math.round(jobs / seconds),
    'tasks/s': Math.round((jobs * tasksPerJob) / seconds),
    'submit ms': Math.round(submitMs),
    'p50 submit->start ms': percentile(startDelays, 50),
    'p99 submit->start ms': percentile(startDelays, 99),
  };
}

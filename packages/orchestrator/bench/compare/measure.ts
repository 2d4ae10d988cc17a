/**
 * One measurement in a fresh process (so each system starts cold and its CPU time is its own):
 * `measure.ts <json spec>` prints one line `RESULT <json>`.
 * - burst: handlers run while `count` awaited single submits go in; drain = count / (first submit to last done).
 * - backlog: `count` jobs are bulk-submitted (calls of 1,000; that time gives the bulk enqueue rate),
 *   then the handlers start; drain = count / (start to last done).
 * - steady: submits spaced at `rate` per second while the handlers run; submit-to-start p50/p99.
 * CPU is this process's user+system time over the measured span, per job (the database server's
 * own CPU, for the PostgreSQL and Redis systems, is not in it).
 */
import { openPeer, type PeerName } from './peers.js';

export interface MeasureSpec {
  readonly peer: PeerName;
  readonly scenario: 'burst' | 'backlog' | 'steady';
  readonly count: number;
  readonly rate?: number;
  readonly queens?: number;
  readonly pgUrl: string;
  readonly redisUrl: string;
}

export interface MeasureResult {
  readonly jobsPerSecond: number;
  readonly bulkPerSecond?: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  readonly cpuMsPerJob: number;
}

const WATCHDOG_MS = 600_000;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as MeasureSpec;
const peer = await openPeer(spec.peer, { pgUrl: spec.pgUrl, redisUrl: spec.redisUrl, queens: spec.queens ?? 0 });
const latencies: number[] = [];
let done = 0;
let finish: () => void = () => {};
const all = new Promise<void>((resolve) => {
  finish = resolve;
});
const hooks = {
  started: (ms: number) => latencies.push(ms),
  done: () => {
    if (++done >= spec.count) finish();
  },
};
const watchdog = setTimeout(() => {
  console.error(`${spec.peer} ${spec.scenario}: ${done} of ${spec.count} done after ${WATCHDOG_MS} ms`);
  process.exit(2);
}, WATCHDOG_MS);

let result: MeasureResult;
if (spec.scenario === 'backlog') {
  const bulkBegan = performance.now();
  await peer.submitBulk(spec.count);
  const bulkMs = performance.now() - bulkBegan;
  const cpu = process.cpuUsage();
  const began = performance.now();
  await peer.work(hooks);
  await all;
  const ms = performance.now() - began;
  const used = process.cpuUsage(cpu);
  result = {
    jobsPerSecond: (spec.count * 1000) / ms,
    bulkPerSecond: (spec.count * 1000) / bulkMs,
    cpuMsPerJob: (used.user + used.system) / 1000 / spec.count,
  };
} else {
  await peer.work(hooks);
  const cpu = process.cpuUsage();
  const began = performance.now();
  for (let i = 0; i < spec.count; i++) {
    if (spec.scenario === 'steady') {
      const due = began + (i * 1000) / (spec.rate ?? 100);
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    await peer.submit();
  }
  await all;
  const ms = performance.now() - began;
  const used = process.cpuUsage(cpu);
  latencies.sort((a, b) => a - b);
  result = {
    jobsPerSecond: (spec.count * 1000) / ms,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    cpuMsPerJob: (used.user + used.system) / 1000 / spec.count,
  };
}
clearTimeout(watchdog);
await peer.close();
console.log(`RESULT ${JSON.stringify(result)}`);
process.exit(0);

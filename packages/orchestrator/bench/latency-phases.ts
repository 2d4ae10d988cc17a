/**
 * Where a job's way from submit to start goes (issue 11's steady goal), phase by phase, on each store:
 * single-task NOOP jobs submitted one at a time at `--rate` per second to a queen with its embedded
 * ant; for each job the submit's round trip, then submit acknowledged -> admitted (the job's
 * PENDING -> READY delivered to this process), admitted -> started (READY -> EXECUTING delivered),
 * and the whole way from calling submit to that delivery. Later than bench:compare's figure, which
 * stops at the claim's timestamp: these include the claim's commit and the delivery of its change.
 * `npm run bench:phases -w @myrmex/orchestrator [-- --jobs N --rate N --warmup N --stores sqlite,postgres]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { openStore, Queen } from '@myrmex/orchestrator';
import { postgres } from '@myrmex/test-utils';
import { NOOP_DEFINITION } from './compare/peers.js';
import { noopExecutor } from './noop.js';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '100' },
    stores: { type: 'string', default: 'sqlite,postgres' },
    warmup: { type: 'string', default: '0' },
  },
});
const positive = (name: 'jobs' | 'rate') => {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got '${values[name]}'`);
  return n;
};
const jobs = positive('jobs');
const rate = positive('rate');
const warmup = Number(values.warmup);
if (!Number.isInteger(warmup) || warmup < 0 || warmup >= jobs)
  throw new Error(`--warmup must be an integer from 0 to --jobs - 1, got '${values.warmup}'`);
const stores = values.stores.split(',').map((s) => s.trim());
for (const store of stores)
  if (store !== 'sqlite' && store !== 'postgres') throw new Error(`--stores: unknown store '${store}' (sqlite, postgres)`);

const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;

async function phases(location: string): Promise<{ phases: Record<string, number[]>; loop: number[]; pauses: number[] }> {
  const queen = await Queen.open({ store: await openStore(location), ant: { capacity: 16 }, executors: [noopExecutor] });
  await queen.applyDefinition(NOOP_DEFINITION);
  const admitted = new Map<string, number>();
  const started = new Map<string, number>();
  let ended = 0;
  let allEnded: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    allEnded = resolve;
  });
  queen.onTransition((event) => {
    if (event.taskType !== undefined) return;
    if (event.to === 'READY') admitted.set(event.jobId, performance.now());
    if (event.to === 'EXECUTING') started.set(event.jobId, performance.now());
    if (event.to === 'COMPLETED' && ++ended === jobs) allEnded();
  });
  await queen.start();
  // What else held this process's thread meanwhile: its event loop's delays, and garbage collection's pauses.
  const loop = monitorEventLoopDelay({ resolution: 1 });
  const pauses: number[] = [];
  const gc = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) pauses.push(entry.duration);
  });
  gc.observe({ entryTypes: ['gc'] });
  loop.enable();
  const submitted: { id: string; called: number; acknowledged: number }[] = [];
  const began = performance.now();
  for (let i = 0; i < jobs; i++) {
    // Spaced from the start, not from the last submit, so a slow one does not lower the rate.
    const wait = began + (i * 1000) / rate - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const called = performance.now();
    const { id } = await queen.submit({ jobType: 'bench-noop' });
    submitted.push({ id, called, acknowledged: performance.now() });
  }
  await done;
  loop.disable();
  gc.disconnect();
  await queen.stop();
  const out: Record<string, number[]> = {
    'submit round trip': [],
    'acknowledged -> admitted': [],
    'admitted -> started': [],
    'submit -> started': [],
  };
  // The first `warmup` jobs run but are not counted: what is left is the queen with its code compiled and caches full.
  for (const { id, called, acknowledged } of submitted.slice(warmup)) {
    const ready = admitted.get(id)!;
    const executing = started.get(id)!;
    out['submit round trip']!.push(acknowledged - called);
    // An admission can be delivered before the submit's own answer: such a job counts 0 there.
    out['acknowledged -> admitted']!.push(Math.max(0, ready - acknowledged));
    out['admitted -> started']!.push(executing - ready);
    out['submit -> started']!.push(executing - called);
  }
  return { phases: out, loop: [50, 90, 99, 100].map((p) => loop.percentile(p) / 1e6), pauses };
}

const pg = stores.includes('postgres') ? await postgres() : undefined;
if (pg && !pg.availability.available) throw new Error(`--stores postgres needs ${pg.availability.reason}`);
console.log(`${jobs} single-task NOOP jobs at ${rate}/s, the first ${warmup} not counted; ms, measured ${new Date().toISOString()}`);
console.log('| store | phase | p50 | p90 | p99 | max |\n|---|---|--:|--:|--:|--:|');
const gcLines: string[] = [];
for (const store of stores) {
  const dir = store === 'sqlite' ? mkdtempSync(join(tmpdir(), 'myrmex-phases-')) : undefined;
  const db = store === 'postgres' ? await pg!.freshDatabase() : undefined;
  try {
    const measured = await phases(dir ? join(dir, 'queen.db') : db!.url);
    for (const [phase, values] of Object.entries(measured.phases)) {
      const sorted = [...values].sort((a, b) => a - b);
      const cells = sorted.length === 0 ? ['–', '–', '–', '–'] : [0.5, 0.9, 0.99, 1].map((p) => percentile(sorted, p).toFixed(2));
      console.log(`| ${store} | ${phase} | ${cells.join(' | ')} |`);
    }
    console.log(`| ${store} | event loop delay (1 ms samples) | ${measured.loop.map((ms) => ms.toFixed(2)).join(' | ')} |`);
    const { pauses } = measured;
    gcLines.push(
      `${store}: ${pauses.length} garbage collections, ${pauses.reduce((a, b) => a + b, 0).toFixed(0)} ms in all, the longest ${Math.max(0, ...pauses).toFixed(1)} ms`,
    );
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
    await db?.dispose();
  }
}
for (const line of gcLines) console.log(line);

/**
 * The BullMQ peer of bench/run.ts: the same single-job burst, ten-task DAGs and steady rate, on
 * BullMQ 5 with the local Redis, one Worker in this process with `concurrency` equal to the
 * embedded ant's capacity. Submit-to-start is the job's own `timestamp` (taken by `Queue.add`)
 * to the moment the processor starts. Jobs are kept after completion (BullMQ's default), as the
 * queen keeps its rows; every key the run made is deleted at the end.
 * The DAG a -> eight parallel -> join is not a BullMQ flow (a flow is a tree: a node cannot have
 * two parents), so `a` is a plain job whose processor adds the flow "join with children b0..b7"
 * when it runs; the job is done when `join` completes.
 * Sizes: the same flags as bench/run.ts (see sizes.ts).
 */
import { redis } from '@myrmex/test-utils';
import { FlowProducer, type Job, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { benchSizes, pace, type ScenarioResult, summarise } from './sizes.js';

const sizes = benchSizes();
const gate = await redis();
if (!gate.availability.available) {
  console.error(`bullmq bench skipped: ${gate.availability.reason}`);
  process.exit(0);
}
const url = gate.url;
// BullMQ splits keys on ':' in places, so its prefix must not contain one.
const prefix = `myrmex-bench-${process.pid}-${Date.now().toString(36)}`;
const BRANCHES = 8;
const WATCHDOG_MS = 300_000;

type Kind = 'single' | 'dag';

/** `ratePerSecond` undefined: one burst; otherwise submissions are spaced evenly. */
async function scenario(name: string, kind: Kind, count: number, ratePerSecond?: number): Promise<ScenarioResult> {
  const queueName = `${kind}-${Math.random().toString(36).slice(2, 8)}`;
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  const queue = new Queue(queueName, { connection, prefix });
  const flows = new FlowProducer({ connection, prefix });
  const startDelays: number[] = [];
  let done = 0;
  let failed = 0;
  let resolveAll: () => void = () => {};
  const all = new Promise<void>((resolve) => {
    resolveAll = resolve;
  });
  const finishedOne = () => {
    if (++done === count) resolveAll();
  };
  const processor = async (job: Job) => {
    if (job.name === 'b' || job.name === 'join') return;
    startDelays.push(Date.now() - job.timestamp);
    if (kind === 'dag') {
      await flows.add({
        name: 'join',
        queueName,
        children: Array.from({ length: BRANCHES }, () => ({ name: 'b', queueName })),
      });
    }
  };
  // BullMQ never closes a connection it was given, so both are disconnected here.
  const workerConnection = new Redis(url, { maxRetriesPerRequest: null });
  const worker = new Worker(queueName, processor, {
    connection: workerConnection,
    prefix,
    concurrency: sizes.capacity,
  });
  worker.on('completed', (job) => {
    if (kind === 'single' || job.name === 'join') finishedOne();
  });
  worker.on('failed', () => {
    failed++;
    finishedOne();
  });
  try {
    await worker.waitUntilReady();
    const began = performance.now();
    for (let i = 0; i < count; i++) {
      await pace(began, i, ratePerSecond);
      await queue.add(kind === 'dag' ? 'a' : 'only', {});
    }
    const submittedIn = performance.now() - began;
    if (count > 0) await Promise.race([all, watchdog(() => `${name}: ${done} of ${count} finished`)]);
    const wallMs = performance.now() - began;
    return summarise(name, count, kind === 'dag' ? BRANCHES + 2 : 1, failed, wallMs, submittedIn, startDelays);
  } finally {
    await worker.close();
    await flows.close();
    await queue.close();
    connection.disconnect();
    workerConnection.disconnect();
  }
}

/** Fails the run instead of hanging when completions stop arriving. */
function watchdog(progress: () => string): Promise<never> {
  return new Promise((_, reject) => {
    setTimeout(() => reject(new Error(`no completion within ${WATCHDOG_MS} ms: ${progress()}`)), WATCHDOG_MS).unref();
  });
}

async function removeKeys(): Promise<void> {
  const client = new Redis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length > 0) await client.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}

console.log(`bullmq bench: ${JSON.stringify(sizes)} on Node ${process.version}, Redis ${url}`);
try {
  const results = [
    await scenario('BullMQ single no-op jobs', 'single', sizes.jobs),
    await scenario('BullMQ ten-job a->8->join (flow)', 'dag', sizes.dags),
    await scenario(`BullMQ single jobs at ${sizes.rate}/s`, 'single', sizes.paced, sizes.rate),
  ];
  console.table(results);
} finally {
  await removeKeys();
}

import type { KeyObject } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { ByzantineInputError, type RunConfig, STRATEGY_CODE } from '../core/config.js';
import type { EngineOutput } from '../core/result.js';
import { smSettings } from '../sm/general.js';
import type { KeyRing } from '../sm/signatures.js';
import { type FromWorker, hostOf, type OmSetup, type SmSetup, type ToWorker } from './protocol.js';

/**
 * Starts the worker module. From a build it is `worker.js`; when this package runs from its
 * TypeScript sources (tests use the "source" export condition) the worker registers tsx first.
 */
function spawn(): Worker {
  if (import.meta.url.endsWith('.js')) return new Worker(new URL('./worker.js', import.meta.url));
  const target = new URL('./worker.ts', import.meta.url).href;
  const loader = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(target)}); })`;
  return new Worker(loader, { eval: true });
}

/**
 * The worker's next message of this type. A worker that dies first (an error, or an exit without
 * one, e.g. `process.exit()` in a dependency) rejects with the cause instead of leaving the run
 * waiting for a message that cannot come.
 */
function once(worker: Worker, index: number, type: FromWorker['type']): Promise<FromWorker> {
  return new Promise((resolve, reject) => {
    const settle = (outcome: () => void) => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      outcome();
    };
    const onMessage = (message: FromWorker) => {
      if (message.type === 'failed') settle(() => reject(new Error(`actor worker ${index} failed: ${message.message}`)));
      else if (message.type === type) settle(() => resolve(message));
    };
    const onError = (error: Error) => settle(() => reject(new Error(`actor worker ${index} failed: ${error.message}`, { cause: error })));
    const onExit = (code: number) =>
      settle(() => reject(new Error(`actor worker ${index} exited with code ${code} before it was ${type}; the run cannot complete`)));
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}

/** One MessageChannel per ordered pair of workers (a worker to itself included): out[a][b] sends from a to b, into[b][a] receives it. */
function mesh(workers: number): { out: MessagePort[][]; into: MessagePort[][] } {
  const out: MessagePort[][] = Array.from({ length: workers }, () => []);
  const into: MessagePort[][] = Array.from({ length: workers }, () => []);
  for (let a = 0; a < workers; a++) {
    for (let b = 0; b < workers; b++) {
      const { port1, port2 } = new MessageChannel();
      out[a]![b] = port1;
      into[b]![a] = port2;
    }
  }
  return { out, into };
}

/**
 * Runs OM(m) or SM(m) with every general an actor in one of several worker threads, exchanging
 * messages over MessagePorts. Generals are dealt round-robin over the workers (one per core by
 * default); the messages of one round from one worker to another travel as one batch, OM's as
 * transferred typed arrays, SM's as structured-cloned signed chains. Timing covers the rounds
 * and the decisions, not spawning the workers.
 */
export async function runActors(config: RunConfig, keys: KeyRing | undefined, start: () => Worker = spawn): Promise<EngineOutput> {
  if (config.strategyCode === STRATEGY_CODE.custom) {
    throw new ByzantineInputError('strategy', 'custom strategies run on the fast engine only: a function cannot cross to a worker thread');
  }
  const count = Math.max(1, Math.min(config.workers ?? availableParallelism(), config.generals));
  const hosted = Array.from({ length: count }, (_, w) =>
    Array.from({ length: config.generals }, (_, id) => id).filter((id) => hostOf(id, count) === w),
  );
  const workers = Array.from({ length: count }, () => start());
  try {
    const { out, into } = mesh(count);
    const ready = workers.map((worker, w) => once(worker, w, 'ready'));
    workers.forEach((worker, w) => {
      const init = {
        worker: w,
        workers: count,
        hosted: hosted[w]!,
        ports: out[w]!,
        inbound: into[w]!,
        setup: setupFor(config, keys, hosted[w]!),
      };
      worker.postMessage({ type: 'init', init } satisfies ToWorker, [...out[w]!, ...into[w]!]);
    });
    await Promise.all(ready);
    const started = performance.now();
    const done = workers.map((worker, w) => once(worker, w, 'done'));
    for (const worker of workers) worker.postMessage({ type: 'go' } satisfies ToWorker);
    const results = (await Promise.all(done)) as Extract<FromWorker, { type: 'done' }>[];
    const algorithmMs = performance.now() - started;
    const decisions = new Array<number>(config.generals).fill(0);
    for (const result of results) {
      for (const [id, value] of result.decisions) decisions[id] = typeof value === 'number' ? value : config.domain.code(value);
    }
    return {
      decisions,
      messages: results.reduce((sum, r) => sum + r.messages, 0),
      discarded: results.reduce((sum, r) => sum + r.discarded, 0),
      algorithmMs,
    };
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

function setupFor(config: RunConfig, keys: KeyRing | undefined, hosted: readonly number[]): OmSetup | SmSetup {
  if (config.algorithm === 'om') {
    return {
      mode: 'om',
      generals: config.generals,
      rounds: config.rounds,
      traitors: config.traitors,
      orderCode: config.domain.code(config.order),
      strategyCode: config.strategyCode,
      seed: config.seed,
      valueCount: config.domain.size,
    };
  }
  const privateKeys: Record<number, KeyObject> = {};
  for (const id of hosted) privateKeys[id] = keys!.privateKeys[id]!;
  return { mode: 'sm', settings: smSettings(config), publicKeys: keys!.publicKeys, privateKeys };
}

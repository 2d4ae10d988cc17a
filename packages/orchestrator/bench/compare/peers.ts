/**
 * The systems the comparison bench drives, each behind one small interface: submit a no-op job
 * (awaited), submit many (calls of 1,000), run 16 no-op handlers. Every peer is configured as its
 * documentation recommends for a worker in the producer's process; what each measures as "started"
 * and "done" is written beside it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type JobStore, openStore, Queen, TERMINAL_JOB_STATES } from '@myrmex/orchestrator';
import { noopExecutor } from '../noop.js';

export const HANDLERS = 16;
export const NOOP_DEFINITION = 'job_type: bench-noop\ntasks:\n  - task_type: only\n    method: NOOP\n';

export interface WorkHooks {
  /** A job's handler started; `latencyMs` from its submit. */
  started(latencyMs: number): void;
  /** A job is finished (recorded as done by the system). */
  done(): void;
}

export interface Peer {
  submit(): Promise<void>;
  submitBulk(count: number): Promise<void>;
  work(hooks: WorkHooks): Promise<void>;
  close(): Promise<void>;
}

export type PeerName = 'myrmex-sqlite' | 'myrmex-pg' | 'bullmq' | 'graphile-worker' | 'pg-boss';
export const PEERS: readonly PeerName[] = ['myrmex-sqlite', 'myrmex-pg', 'bullmq', 'graphile-worker', 'pg-boss'];

export interface PeerPlace {
  /** A fresh PostgreSQL database for this measurement. */
  readonly pgUrl: string;
  readonly redisUrl: string;
  /** Myrmex on PostgreSQL: this many queen processes run the jobs (0: the queen in this process). */
  readonly queens: number;
}

const chunks = (count: number) => Array.from({ length: Math.ceil(count / 1000) }, (_, i) => Math.min(1000, count - i * 1000));

/**
 * Myrmex: a queen with its embedded ant (capacity 16) in this process, or `queens` queen processes
 * on one PostgreSQL (each with its own ant of 16) that start together when `work` is called.
 * Started: the job's READY -> EXECUTING transition; done: its terminal transition.
 */
async function myrmex(place: PeerPlace, kind: 'sqlite' | 'pg'): Promise<Peer> {
  const dir = kind === 'sqlite' ? mkdtempSync(join(tmpdir(), 'myrmex-compare-')) : undefined;
  const location = dir ? join(dir, 'bench.db') : place.pgUrl;
  const store: JobStore = await openStore(location);
  const remote = kind === 'pg' && place.queens > 0;
  const queen = await Queen.open({ store, ant: { capacity: remote ? 0 : HANDLERS }, executors: [noopExecutor] });
  await queen.applyDefinition(NOOP_DEFINITION);
  const submittedAt = new Map<string, number>();
  const children: ChildProcess[] = [];
  let polling: NodeJS.Timeout | undefined;
  return {
    async submit() {
      const at = Date.now();
      const job = await queen.submit({ jobType: 'bench-noop' });
      submittedAt.set(job.id, at);
    },
    async submitBulk(count) {
      for (const size of chunks(count)) await queen.submitMany(Array.from({ length: size }, () => ({ jobType: 'bench-noop' })));
    },
    async work(hooks) {
      if (!remote) {
        queen.onTransition((event) => {
          if (event.taskType !== undefined) return;
          if (event.from === 'READY' && event.to === 'EXECUTING') {
            const at = submittedAt.get(event.jobId);
            if (at !== undefined) hooks.started(event.at.getTime() - at);
          }
          if ((TERMINAL_JOB_STATES as readonly string[]).includes(event.to)) hooks.done();
        });
        await queen.start();
        return;
      }
      const script = new URL('./queen-process.ts', import.meta.url).pathname;
      for (let i = 0; i < place.queens; i++) {
        children.push(
          spawn(process.execPath, ['--conditions=source', '--import', 'tsx', script, place.pgUrl], { stdio: ['pipe', 'pipe', 'inherit'] }),
        );
      }
      await Promise.all(children.map(waitForLine));
      for (const child of children) child.stdin!.write('go\n');
      // Another process finishes the jobs: count them in the store.
      let seen = 0;
      const poll = async () => {
        const completed = (await queen.listJobs({ state: 'COMPLETED', limit: 1, count: 'exact' })).total ?? 0;
        for (; seen < completed; seen++) hooks.done();
        polling = setTimeout(() => void poll(), 20);
      };
      await poll();
    },
    async close() {
      clearTimeout(polling);
      await Promise.all(children.map(stopChild));
      await queen.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

function waitForLine(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`a queen process exited with ${code} before it was ready`)));
    child.stdout!.once('data', () => resolve());
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** BullMQ 5: one Worker with concurrency 16. Started: the processor runs (`job.timestamp` is set by `add`); done: `completed`. */
async function bullmq(place: PeerPlace): Promise<Peer> {
  const { Queue, Worker } = await import('bullmq');
  const { Redis } = await import('ioredis');
  const prefix = `myrmex-compare-${process.pid}`;
  const connection = new Redis(place.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue('noop', { connection, prefix });
  let worker: InstanceType<typeof Worker> | undefined;
  const workerConnection = new Redis(place.redisUrl, { maxRetriesPerRequest: null });
  return {
    async submit() {
      await queue.add('noop', {});
    },
    async submitBulk(count) {
      for (const size of chunks(count)) await queue.addBulk(Array.from({ length: size }, () => ({ name: 'noop', data: {} })));
    },
    async work(hooks) {
      worker = new Worker(
        'noop',
        async (job) => {
          hooks.started(Date.now() - job.timestamp);
        },
        { connection: workerConnection, prefix, concurrency: HANDLERS },
      );
      worker.on('completed', () => hooks.done());
      await worker.waitUntilReady();
    },
    async close() {
      await worker?.close();
      await queue.obliterate({ force: true });
      await queue.close();
      connection.disconnect();
      workerConnection.disconnect();
    },
  };
}

/** graphile-worker 0.17: `run` with concurrency 16 (LISTEN/NOTIFY, its default poll interval). Done: `job:success`. */
async function graphile(place: PeerPlace): Promise<Peer> {
  const { makeWorkerUtils, run } = await import('graphile-worker');
  const utils = await makeWorkerUtils({ connectionString: place.pgUrl });
  await utils.migrate();
  let runner: Awaited<ReturnType<typeof run>> | undefined;
  return {
    async submit() {
      await utils.addJob('noop', { t: Date.now() });
    },
    async submitBulk(count) {
      for (const size of chunks(count)) {
        const t = Date.now();
        await utils.addJobs(Array.from({ length: size }, () => ({ identifier: 'noop', payload: { t } })));
      }
    },
    async work(hooks) {
      runner = await run({
        connectionString: place.pgUrl,
        concurrency: HANDLERS,
        noHandleSignals: true,
        logger: new (await import('graphile-worker')).Logger(() => () => {}),
        taskList: {
          noop: async (payload) => {
            hooks.started(Date.now() - (payload as { t: number }).t);
          },
        },
      });
      runner.events.on('job:success', () => hooks.done());
    },
    async close() {
      await runner?.stop();
      await utils.release();
    },
  };
}

/**
 * pg-boss 10: `work()` waits its polling interval (at least 0.5 s) after every fetch that returns
 * jobs in batch mode, so it is driven as its docs allow for throughput: 16 loops of `fetch` (one job)
 * + `complete`, each sleeping 20 ms only when the queue was empty. Done: `complete` resolved.
 */
async function pgBoss(place: PeerPlace): Promise<Peer> {
  const { default: PgBoss } = await import('pg-boss');
  const boss = new PgBoss({ connectionString: place.pgUrl, max: HANDLERS + 4 });
  boss.on('error', () => undefined);
  await boss.start();
  await boss.createQueue('noop');
  let running = true;
  const loops: Promise<void>[] = [];
  return {
    async submit() {
      await boss.send('noop', { t: Date.now() });
    },
    async submitBulk(count) {
      for (const size of chunks(count)) {
        const t = Date.now();
        await boss.insert(Array.from({ length: size }, () => ({ name: 'noop', data: { t } })));
      }
    },
    async work(hooks) {
      for (let i = 0; i < HANDLERS; i++) {
        loops.push(
          (async () => {
            while (running) {
              const [job] = await boss.fetch<{ t: number }>('noop');
              if (!job) {
                await new Promise((resolve) => setTimeout(resolve, 20));
                continue;
              }
              hooks.started(Date.now() - job.data.t);
              await boss.complete('noop', job.id);
              hooks.done();
            }
          })(),
        );
      }
    },
    async close() {
      running = false;
      await Promise.allSettled(loops);
      await boss.stop({ graceful: false, wait: true });
    },
  };
}

export function openPeer(name: PeerName, place: PeerPlace): Promise<Peer> {
  switch (name) {
    case 'myrmex-sqlite':
      return myrmex(place, 'sqlite');
    case 'myrmex-pg':
      return myrmex(place, 'pg');
    case 'bullmq':
      return bullmq(place);
    case 'graphile-worker':
      return graphile(place);
    case 'pg-boss':
      return pgBoss(place);
  }
}

import { type JobStore, PostgresStore, Queen, type TimelineEvent } from '@myrmex/orchestrator';
import { postgres } from '@myrmex/test-utils';
import { expect, it } from 'vitest';
import { finished, source, testExecutor } from '../queen/helpers.js';

/**
 * The scheduler's store-admission path on PostgreSQL (issue 11): with the priority policy the queen has the
 * store admit the next due jobs in one statement (`admitNext`) instead of reading the due page and admitting
 * what it read; a job the supervisor must plan (here: a job `skip_if`) stops the store there and goes by the
 * page path, and is not jumped by the plain jobs behind it; max_concurrency holds on the store's path.
 */

const gate = await postgres();

const COUNTED = new Set(['admitNext', 'duePendingJobs']);

/** The store, counting the calls of the admission methods by name. */
function counted(store: JobStore, calls: Map<string, number>): JobStore {
  return new Proxy(store, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      if (typeof key === 'string' && COUNTED.has(key))
        return (...args: unknown[]) => {
          calls.set(key, (calls.get(key) ?? 0) + 1);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      return value.bind(target);
    },
  });
}

async function queenOn(calls: Map<string, number>, capacity = 1, pollIntervalMs = 50) {
  const db = await gate.freshDatabase();
  const queen = await Queen.open({
    store: counted(PostgresStore.open({ url: db.url, poolSize: 4 }), calls),
    executors: [testExecutor()],
    ant: { capacity },
    pollIntervalMs,
  });
  const transitions: TimelineEvent[] = [];
  queen.onTransition((event: TimelineEvent) => {
    if (event.taskType === undefined) transitions.push(event);
  });
  const dispose = async () => {
    await queen.stop();
    await db.dispose();
  };
  return { queen, transitions, dispose };
}

/** The jobs in the order they left PENDING. */
const admissionOrder = (transitions: readonly TimelineEvent[]) => transitions.filter((e) => e.from === 'PENDING').map((e) => e.jobId);

gate.describe('admitting in the store on PostgreSQL', () => {
  it('admits plain jobs by admitNext alone, in priority order, without reading the due page', async () => {
    const calls = new Map<string, number>();
    const { queen, transitions, dispose } = await queenOn(calls);
    try {
      await queen.applyDefinition(source('plain', [{ task_type: 'a', script: ['exit 0'] }]));
      const low = await queen.submit({ jobType: 'plain', priority: 10 });
      const high = await queen.submit({ jobType: 'plain', priority: 90 });
      const middle = await queen.submit({ jobType: 'plain', priority: 50 });
      await queen.start();
      for (const job of [low, high, middle]) expect((await finished(queen, job.id)).state).toBe('COMPLETED');
      expect(admissionOrder(transitions)).toEqual([high.id, middle.id, low.id]);
      expect(transitions.find((e) => e.jobId === high.id && e.from === 'PENDING')).toMatchObject({ to: 'READY', reason: 'admitted' });
      expect(calls.get('admitNext')).toBeGreaterThan(0);
      expect(calls.get('duePendingJobs') ?? 0).toBe(0);
    } finally {
      await dispose();
    }
  }, 60_000);

  it('asks the store to admit again only after something may have brought a job: a drain of admitted jobs does not', async () => {
    const calls = new Map<string, number>();
    // The timer off: every pass of the drain is started by the ends of the one before.
    const { queen, transitions, dispose } = await queenOn(calls, 2, 600_000);
    try {
      await queen.applyDefinition(source('plain', [{ task_type: 'a', script: ['exit 0'] }]));
      const backlog = await queen.submitMany(Array.from({ length: 40 }, () => ({ jobType: 'plain' })));
      await queen.start();
      for (const job of backlog) expect((await finished(queen, job.id)).state).toBe('COMPLETED');
      const passes = new Set(transitions.filter((e) => e.to === 'EXECUTING').map((e) => e.at.getTime())).size;
      // One round admitted all 40; about 20 claims of 2 followed, none of them preceded by an admission.
      expect(passes).toBeGreaterThan(5);
      expect(calls.get('admitNext')).toBeLessThanOrEqual(2);
      // A job submitted after the drain is admitted: the submit's change is one that may bring a job.
      const late = await queen.submit({ jobType: 'plain' });
      expect((await finished(queen, late.id)).state).toBe('COMPLETED');
      expect(calls.get('duePendingJobs') ?? 0).toBe(0);
    } finally {
      await dispose();
    }
  }, 60_000);

  it('leaves a job with skip_if to the due page, and does not admit the plain ones behind it first', async () => {
    const calls = new Map<string, number>();
    const { queen, transitions, dispose } = await queenOn(calls);
    try {
      await queen.applyDefinition(source('plain', [{ task_type: 'a', script: ['exit 0'] }]));
      await queen.applyDefinition(
        source('skipped', [{ task_type: 't', script: ['exit 0'] }], { skip_if: '{{if eq .Env "staging"}} true {{end}}' }),
      );
      const plain = [];
      for (let i = 0; i < 3; i++) plain.push(await queen.submit({ jobType: 'plain', priority: 10 }));
      const skipped = await queen.submit({ jobType: 'skipped', priority: 90, params: { Env: 'staging' } });
      await queen.start();
      expect(await finished(queen, skipped.id)).toMatchObject({ state: 'COMPLETED', reason: 'skipped: skip_if is true' });
      for (const job of plain) expect((await finished(queen, job.id)).state).toBe('COMPLETED');
      expect(admissionOrder(transitions)).toEqual([skipped.id, ...plain.map((job) => job.id)]);
      expect(calls.get('duePendingJobs')).toBeGreaterThan(0);
    } finally {
      await dispose();
    }
  }, 60_000);

  it('never admits more jobs of a type than its max_concurrency, with free slots waiting', async () => {
    const calls = new Map<string, number>();
    const { queen, transitions, dispose } = await queenOn(calls, 4);
    try {
      await queen.applyDefinition(source('capped', [{ task_type: 'a', script: ['sleep 50'] }], { max_concurrency: 2 }));
      const jobs = [];
      for (let i = 0; i < 6; i++) jobs.push(await queen.submit({ jobType: 'capped' }));
      await queen.start();
      for (const job of jobs) expect((await finished(queen, job.id)).state).toBe('COMPLETED');
      let admitted = 0;
      let most = 0;
      for (const event of transitions) {
        if (event.from === 'PENDING') admitted++;
        if (event.to === 'COMPLETED') admitted--;
        most = Math.max(most, admitted);
      }
      expect(most).toBe(2);
      expect(calls.get('admitNext')).toBeGreaterThan(0);
      expect(calls.get('duePendingJobs') ?? 0).toBe(0);
    } finally {
      await dispose();
    }
  }, 60_000);
});

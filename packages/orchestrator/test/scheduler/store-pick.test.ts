import { type JobStore, PostgresStore, priorityPolicy, Queen, type TimelineEvent } from '@myrmex/orchestrator';
import { postgres } from '@myrmex/test-utils';
import { expect, it } from 'vitest';
import { finished, source, testExecutor } from '../queen/helpers.js';

/**
 * The scheduler's store-pick path on PostgreSQL (issue 11): with the priority policy the queen has the store
 * pick and claim the next ready tasks for each ant's free slots (`claimNext`) instead of reading the ready
 * page; a task the scheduler must place itself (here: placement resources) stops the pick and goes by the
 * page path, and is not jumped by the plain tasks behind it.
 */

const gate = await postgres();

/** The store, counting the calls of the scheduling methods by name. */
function counted(store: JobStore, calls: Map<string, number>): JobStore {
  return new Proxy(store, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      if (key === 'claimNext' || key === 'claimMany' || key === 'readyTasks')
        return (...args: unknown[]) => {
          calls.set(key, (calls.get(key) ?? 0) + 1);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      return value.bind(target);
    },
  });
}

async function queenOn(calls: Map<string, number>, policy = priorityPolicy) {
  const db = await gate.freshDatabase();
  const queen = await Queen.open({
    store: counted(PostgresStore.open({ url: db.url, poolSize: 4 }), calls),
    executors: [testExecutor()],
    ant: { capacity: 1 },
    pollIntervalMs: 50,
    policy,
  });
  const starts: string[] = [];
  queen.onTransition((event: TimelineEvent) => {
    if (event.taskType === undefined && event.from === 'READY' && event.to === 'EXECUTING') starts.push(event.jobId);
  });
  const dispose = async () => {
    await queen.stop();
    await db.dispose();
  };
  return { queen, starts, dispose };
}

gate.describe('picking in the store on PostgreSQL', () => {
  it('starts plain tasks by claimNext alone, in priority order, without reading the ready page', async () => {
    const calls = new Map<string, number>();
    const { queen, starts, dispose } = await queenOn(calls);
    try {
      await queen.applyDefinition(source('plain', [{ task_type: 'a', script: ['exit 0'] }]));
      const low = await queen.submit({ jobType: 'plain', priority: 10 });
      const high = await queen.submit({ jobType: 'plain', priority: 90 });
      const middle = await queen.submit({ jobType: 'plain', priority: 50 });
      await queen.start();
      for (const job of [low, high, middle]) expect((await finished(queen, job.id)).state).toBe('COMPLETED');
      expect(starts).toEqual([high.id, middle.id, low.id]);
      expect(calls.get('claimNext')).toBeGreaterThan(0);
      expect(calls.get('readyTasks') ?? 0).toBe(0);
      expect(calls.get('claimMany') ?? 0).toBe(0);
    } finally {
      await dispose();
    }
  }, 60_000);

  it('leaves a task with placement resources to the ready page, and does not start the plain ones before it', async () => {
    const calls = new Map<string, number>();
    const { queen, starts, dispose } = await queenOn(calls);
    try {
      await queen.applyDefinition(source('plain', [{ task_type: 'a', script: ['exit 0'] }]));
      await queen.applyDefinition(source('placed', [{ task_type: 'a', script: ['exit 0'], resources: { cpu: 1 } }]));
      const plain = [];
      for (let i = 0; i < 3; i++) plain.push(await queen.submit({ jobType: 'plain', priority: 10 }));
      const placed = await queen.submit({ jobType: 'placed', priority: 90 });
      await queen.start();
      for (const job of [placed, ...plain]) expect((await finished(queen, job.id)).state).toBe('COMPLETED');
      expect(starts).toEqual([placed.id, ...plain.map((job) => job.id)]);
      expect(calls.get('claimNext')).toBeGreaterThan(0);
      expect(calls.get('claimMany')).toBeGreaterThan(0);
    } finally {
      await dispose();
    }
  }, 60_000);

  it('keeps the ready page for a policy that orders tasks itself, even one copied from the priority policy', async () => {
    const calls = new Map<string, number>();
    const lastFirst = { ...priorityPolicy, name: 'last-first', orderTasks: priorityPolicy.orderTasks.bind(null) };
    const { queen, dispose } = await queenOn(calls, lastFirst);
    try {
      await queen.applyDefinition(source('plain', [{ task_type: 'a', script: ['exit 0'] }]));
      const job = await queen.submit({ jobType: 'plain' });
      await queen.start();
      expect((await finished(queen, job.id)).state).toBe('COMPLETED');
      expect(calls.get('claimNext') ?? 0).toBe(0);
      expect(calls.get('claimMany')).toBeGreaterThan(0);
    } finally {
      await dispose();
    }
  }, 60_000);
});

import type { ChildProcess } from 'node:child_process';
import { type Executor, PostgresStore, Queen, SqliteStore } from '@myrmex/orchestrator';
import { postgres } from '@myrmex/test-utils';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createApi } from '../../src/api/index.js';
import { parseConsumables } from '../../src/queen/consumables.js';
import type { ConsumableStore } from '../../src/store/consumables.js';
import { startQueenProcess, stopped } from '../multiqueen/processes.js';
import { finished, Meter, source, startQueen, tempDb, testExecutor, until } from './helpers.js';

/**
 * Consumable resources (issue 14): Formicary's job and task `resources` take units of a declared
 * pool; a task waits, saying why, until its units are free, and gives them back on every exit path.
 */

/** HOLD: runs until the test lets it go (`release`), or until it is aborted (cancel, timeout). */
function holdExecutor() {
  const running = new Map<string, (ok: boolean) => void>();
  const executor: Executor = {
    method: 'HOLD',
    execute: (context) =>
      new Promise((resolve) => {
        const key = `${context.jobId}/${context.taskType}`;
        running.set(key, (ok) => {
          running.delete(key);
          resolve(ok ? { exitCode: 0, succeeded: true } : { exitCode: 1, succeeded: false });
        });
        context.signal.addEventListener('abort', () => {
          running.delete(key);
          resolve({ succeeded: false, error: String(context.signal.reason) });
        });
      }),
  };
  return { executor, running, release: (jobId: string, ok = true) => [...running].find(([k]) => k.startsWith(`${jobId}/`))?.[1](ok) };
}

const licensed = (jobType: string, task: Record<string, unknown> = {}, job: Record<string, unknown> = {}) =>
  source(jobType, [{ task_type: 'use', method: 'HOLD', resources: { resource_type: 'License', value: 1 }, ...task }], job);

const inUse = async (queen: Queen, name = 'License') => (await queen.consumablePools()).find((p) => p.name === name)?.inUse;

/** A job of type `t` whose one task `x` takes the units (the store's rows only: no definition is applied). */
const jobWithTaskX = (id: string) => ({
  id,
  jobType: 't',
  version: 1,
  priority: 50,
  params: {},
  submittedAt: new Date(),
  scheduledAt: new Date(),
  taskTypes: ['x'],
});

describe('consumable resources on one queen (SQLite)', () => {
  it('a task waits while the pool is full, saying so, and starts when a unit comes back on success, failure, cancel or timeout', async () => {
    const hold = holdExecutor();
    const queen = await startQueen({ executors: [hold.executor], consumables: { License: 2 }, ant: { capacity: 8 } });
    await queen.applyDefinition(licensed('lic'));
    // A task timeout is enforced by the executor: a real shell task here.
    await queen.applyDefinition(licensed('lic-timeout', { method: 'SHELL', script: ['sleep 30'], timeout: '300ms' }));
    const [a, b, c] = [
      await queen.submit({ jobType: 'lic' }),
      await queen.submit({ jobType: 'lic' }),
      await queen.submit({ jobType: 'lic' }),
    ];
    await until(async () => hold.running.size === 2 || undefined);
    const waiting = [a, b, c].find((j) => ![...hold.running.keys()].some((k) => k.startsWith(`${j.id}/`)))!;
    const status = await until(async () => {
      const s = await queen.schedulingStatus(waiting.id);
      return s?.heldBy === 'consumables' ? s : undefined;
    });
    expect(status.reason).toBe('waiting: resource License 2/2 in use (needs 1)');
    expect(await inUse(queen)).toBe(2);
    const [first, second] = [a, b, c].filter((j) => j !== waiting);

    // Success gives the unit back: the waiting job starts.
    hold.release(first!.id, true);
    await until(async () => hold.running.has(`${waiting.id}/use`) || undefined);
    expect((await finished(queen, first!.id)).state).toBe('COMPLETED');

    // Failure gives it back.
    const d = await queen.submit({ jobType: 'lic' });
    hold.release(second!.id, false);
    await until(async () => hold.running.has(`${d.id}/use`) || undefined);
    expect((await finished(queen, second!.id)).state).toBe('FAILED');

    // Cancel gives it back.
    const e = await queen.submit({ jobType: 'lic' });
    await queen.cancel(d.id, 'no longer needed');
    await until(async () => hold.running.has(`${e.id}/use`) || undefined);
    expect((await finished(queen, d.id)).state).toBe('CANCELLED');

    // A task timeout gives it back.
    hold.release(waiting.id);
    hold.release(e.id);
    const t = await queen.submit({ jobType: 'lic-timeout' });
    const after = await queen.submit({ jobType: 'lic' });
    const other = await queen.submit({ jobType: 'lic' });
    await until(async () => hold.running.has(`${after.id}/use`) || undefined);
    expect((await finished(queen, t.id)).state).toBe('FAILED');
    hold.release(after.id);
    await until(async () => hold.running.has(`${other.id}/use`) || undefined);
    hold.release(other.id);
    for (const job of [waiting, e, after, other]) expect((await finished(queen, job.id)).state).toBe('COMPLETED');
    expect(await inUse(queen)).toBe(0);
  }, 60_000);

  it("a job's resources are held by the job from its first task to its end; an undeclared pool waits naming it", async () => {
    const meter = new Meter();
    const queen = await startQueen({ meter, consumables: { License: 1 }, ant: { capacity: 8 } });
    const job = { resources: { resource_type: 'License', value: 1 } };
    await queen.applyDefinition(
      source(
        'two-steps',
        [
          { task_type: 'a', script: ['sleep 50'], environment: { KEY: 'lic' }, on_completed: 'b' },
          { task_type: 'b', script: ['sleep 50'], environment: { KEY: 'lic' } },
        ],
        job,
      ),
    );
    const jobs = await Promise.all([1, 2, 3].map(() => queen.submit({ jobType: 'two-steps' })));
    for (const j of jobs) expect((await finished(queen, j.id)).state).toBe('COMPLETED');
    // Tasks of one job ran one after the other, and no two jobs' tasks ever overlapped: the job held the only unit.
    expect(meter.max.get('lic')).toBe(1);
    const order = meter.order.map((o) => o.split('/')[0]);
    expect(order).toEqual([order[0], order[0], order[2], order[2], order[4], order[4]]);
    expect(await inUse(queen)).toBe(0);

    await queen.applyDefinition(
      source('needs-gpu', [{ task_type: 'x', script: ['exit 0'], resources: { resource_type: 'Gpu', value: 1 } }]),
    );
    const gpu = await queen.submit({ jobType: 'needs-gpu' });
    const status = await until(async () => {
      const s = await queen.schedulingStatus(gpu.id);
      return s?.heldBy === 'consumables' ? s : undefined;
    });
    expect(status.reason).toMatch(/^waiting: resource Gpu has no declared capacity/);
    await queen.declareConsumable('Gpu', 1);
    expect((await finished(queen, gpu.id)).state).toBe('COMPLETED');
  }, 60_000);

  it('the API lists the pools with their holders and lets an administrator declare one', async () => {
    const hold = holdExecutor();
    const queen = await startQueen({ executors: [hold.executor], consumables: { License: 3 } });
    const app = await createApi(queen);
    try {
      await queen.applyDefinition(licensed('lic'));
      const job = await queen.submit({ jobType: 'lic' });
      await until(async () => hold.running.size === 1 || undefined);
      const listed = await app.inject({ method: 'GET', url: '/api/consumables' });
      expect(listed.json()).toEqual([
        { name: 'License', capacity: 3, in_use: 1, holders: [{ job_id: job.id, task_type: 'use', units: 1, since: expect.any(String) }] },
      ]);
      expect((await app.inject({ method: 'PUT', url: '/api/consumables/Bandwidth', payload: { capacity: 100 } })).statusCode).toBe(204);
      const bad = await app.inject({ method: 'PUT', url: '/api/consumables/Bandwidth', payload: { capacity: -1 } });
      expect(bad.statusCode).toBe(400);
      expect((await app.inject({ method: 'GET', url: '/api/consumables' })).json().map((p: { name: string }) => p.name)).toEqual([
        'Bandwidth',
        'License',
      ]);
      hold.release(job.id);
      await finished(queen, job.id);
    } finally {
      await app.close();
    }
  });

  it('MYRMEX_CONSUMABLES is name=capacity, comma-separated; a bad entry is refused naming it', () => {
    expect(parseConsumables('License=2, NetworkBandwidth=100')).toEqual({ License: 2, NetworkBandwidth: 100 });
    expect(() => parseConsumables('License=2,Gpu')).toThrow("MYRMEX_CONSUMABLES: 'Gpu' is not name=capacity (e.g. License=2)");
  });

  it('units taken for a claim that never happens count only for a short grace', async () => {
    const store = SqliteStore.open({ path: tempDb() });
    try {
      const pools = store.consumables();
      await pools.declare('License', 1, new Date());
      await store.createJob(jobWithTaskX('j1'));
      await store.createJob(jobWithTaskX('j2'));
      const now = Date.now();
      expect(await pools.acquire('j1', 'x', [{ name: 'License', units: 1, scope: 'task' }], now)).toMatchObject({ acquired: true });
      expect(await pools.acquire('j2', 'x', [{ name: 'License', units: 1, scope: 'task' }], now)).toEqual({
        acquired: false,
        name: 'License',
        inUse: 1,
        capacity: 1,
      });
      // The queen that took j1's unit died before claiming: 30 s later the unit is free again.
      expect(await pools.acquire('j2', 'x', [{ name: 'License', units: 1, scope: 'task' }], now + 30_001)).toMatchObject({
        acquired: true,
      });
    } finally {
      await store.close();
    }
  });
});

const gate = await postgres();

gate.describe('consumable resources across queens (PostgreSQL)', () => {
  it('two queens running 12 one-unit jobs on a pool of 2 never run more than 2 at once', async () => {
    const db = await gate.freshDatabase();
    const meter = new Meter();
    const open = () =>
      Queen.open({
        store: PostgresStore.open({ url: db.url }),
        executors: [testExecutor(meter)],
        ant: { capacity: 4 },
        pollIntervalMs: 50,
        consumables: { License: 2 },
      });
    const [one, two] = [await open(), await open()];
    try {
      await one.start();
      await two.start();
      await one.applyDefinition(
        source('lic', [
          { task_type: 'use', script: ['sleep 60'], environment: { KEY: 'lic' }, resources: { resource_type: 'License', value: 1 } },
        ]),
      );
      const jobs = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? one : two).submit({ jobType: 'lic' })));
      for (const job of jobs) expect((await finished(one, job.id, 60_000)).state).toBe('COMPLETED');
      expect(meter.max.get('lic')).toBe(2);
      expect(await inUse(one)).toBe(0);
    } finally {
      await two.stop();
      await one.stop();
      await db.dispose();
    }
  }, 90_000);

  it('law: concurrent acquires through two stores never hold more than the capacity, and in use is what they took (property)', async () => {
    const db = await gate.freshDatabase();
    const stores = [PostgresStore.open({ url: db.url }), PostgresStore.open({ url: db.url })];
    let round = 0;
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 5 }),
          fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 8 }),
          async (capacity, units) => {
            const pool = `P${round++}`;
            const pools: ConsumableStore[] = stores.map((s) => s.consumables());
            await pools[0]!.declare(pool, capacity, new Date());
            const ids = units.map((_, i) => `${pool}-${i}`);
            for (const id of ids) {
              await stores[0]!.createJob(jobWithTaskX(id));
            }
            const now = Date.now();
            const results = await Promise.all(
              units.map((u, i) => pools[i % 2]!.acquire(ids[i]!, 'x', [{ name: pool, units: u, scope: 'task' }], now)),
            );
            const taken = units.filter((_, i) => results[i]!.acquired).reduce((a, b) => a + b, 0);
            expect(taken).toBeLessThanOrEqual(capacity);
            expect((await pools[1]!.pools(now)).find((p) => p.name === pool)?.inUse).toBe(taken);
            // Whatever was refused did not fit next to what was taken when it was refused.
            for (const [i, r] of results.entries()) if (!r.acquired) expect(r.inUse + units[i]!).toBeGreaterThan(capacity);
          },
        ),
        { numRuns: 15 },
      );
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      await db.dispose();
    }
  }, 90_000);

  it('a queen killed with -9 while its task holds the unit: the lease lapses, the reaper ends the attempt and the unit comes back', async () => {
    const db = await gate.freshDatabase();
    const front = await Queen.open({
      store: PostgresStore.open({ url: db.url }),
      ant: { capacity: 0 },
      pollIntervalMs: 50,
      consumables: { License: 1 },
    });
    let child: ChildProcess | undefined;
    let runner: Queen | undefined;
    try {
      await front.start();
      // The first attempt of the first job sleeps long (its queen dies under it); every other attempt ends at once.
      await front.applyDefinition(
        "job_type: crash\ntasks:\n  - task_type: use\n    retry: 1\n    delay_between_retries: 0s\n    resources: { resource_type: License, value: 1 }\n    script: ['if [ {{.TaskRetry}} = 0 ]; then sleep {{.Nap}}; fi']\n",
      );
      child = await startQueenProcess(db.url);
      const job = await front.submit({ jobType: 'crash', params: { Nap: 60 } });
      await until(async () => ((await inUse(front)) === 1 && (await front.getJob(job.id))?.state === 'EXECUTING') || undefined, 30_000);
      const waiting = await front.submit({ jobType: 'crash', params: { Nap: 0 } });
      await stopped(child, 'SIGKILL');
      child = undefined;
      runner = await Queen.open({
        store: PostgresStore.open({ url: db.url }),
        ant: { capacity: 2 },
        pollIntervalMs: 50,
        attemptLeaseMs: 1500,
      });
      await runner.start();
      for (const id of [job.id, waiting.id]) expect((await finished(front, id, 60_000)).state).toBe('COMPLETED');
      const crashed = (await front.getJob(job.id))!.tasks[0]!.attempts;
      expect(crashed[0]).toMatchObject({ state: 'FAILED' });
      expect(await inUse(front)).toBe(0);
    } finally {
      if (child) await stopped(child, 'SIGKILL');
      await runner?.stop();
      await front.stop();
      await db.dispose();
    }
  }, 120_000);
});

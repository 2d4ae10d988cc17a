import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgres } from '@myrmex/test-utils';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { TimelineEvent } from '../../src/domain/types.js';
import { Queen } from '../../src/queen/queen.js';
import { wakeFor } from '../../src/scheduler/wakeups.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { JobStore } from '../../src/store/store.js';

let seq = 0;
const event = (jobId: string, from: string | undefined, to: string, taskType?: string): TimelineEvent => ({
  seq: ++seq,
  jobId,
  ...(taskType === undefined ? {} : { taskType }),
  ...(from === undefined ? {} : { from }),
  to,
  at: new Date(0),
});

const admission = (jobId: string) => [event(jobId, 'PENDING', 'READY'), event(jobId, 'PENDING', 'READY', 'a')];
const claim = (jobId: string) => [event(jobId, 'READY', 'EXECUTING', 'a'), event(jobId, 'READY', 'EXECUTING')];
const end = (jobId: string) => [event(jobId, 'EXECUTING', 'COMPLETED', 'a'), event(jobId, 'EXECUTING', 'COMPLETED')];

describe('wakeFor: what committed transitions ask of the scheduler', () => {
  it('admissions and claims are what a pass does itself; ends only free places; the rest is work', () => {
    expect(wakeFor([])).toBe('none');
    expect(wakeFor(admission('j'))).toBe('none');
    expect(wakeFor(claim('j'))).toBe('none');
    expect(wakeFor(end('j'))).toBe('freed');
    expect(wakeFor([event('j', 'EXECUTING', 'PAUSED')])).toBe('freed');
    expect(wakeFor([event('j', undefined, 'PENDING')])).toBe('work');
    // A step of a DAG: the next task is readied by a commit that admits no job.
    expect(wakeFor([event('j', 'EXECUTING', 'COMPLETED', 'a'), event('j', 'PENDING', 'READY', 'b')])).toBe('work');
    // A task readied in a commit that admits another job is still new work.
    expect(wakeFor([...admission('k'), event('j', 'PENDING', 'READY', 'b')])).toBe('work');
    // A retry, a restart, a resume.
    expect(wakeFor([event('j', 'EXECUTING', 'READY', 'a')])).toBe('work');
    expect(wakeFor([event('j', 'FAILED', 'PENDING')])).toBe('work');
    expect(wakeFor([event('j', 'PAUSED', 'EXECUTING')])).toBe('work');
  });

  const arbitrary = fc.record({
    jobId: fc.constantFrom('j', 'k', 'l'),
    taskType: fc.option(fc.constantFrom('a', 'b'), { nil: undefined }),
    from: fc.option(fc.constantFrom('PENDING', 'READY', 'EXECUTING', 'PAUSED', 'FAILED'), { nil: undefined }),
    to: fc.constantFrom('PENDING', 'READY', 'EXECUTING', 'COMPLETED', 'FAILED', 'CANCELLED', 'SKIPPED', 'PAUSED'),
  });
  const batch = fc.array(arbitrary, { maxLength: 8 }).map((list) => list.map((e) => event(e.jobId, e.from, e.to, e.taskType)));

  it('laws: order does not matter; a commit with a submit in it is work; one of ends only is never work', () => {
    fc.assert(
      fc.property(batch, fc.nat(), (events, n) => {
        const rotated = [...events.slice(n % (events.length || 1)), ...events.slice(0, n % (events.length || 1))];
        expect(wakeFor(rotated)).toBe(wakeFor(events));
        expect(wakeFor([...events, event('z', undefined, 'PENDING')])).toBe('work');
        const ends = events.filter((e) => ['COMPLETED', 'FAILED', 'CANCELLED', 'SKIPPED', 'PAUSED'].includes(e.to));
        expect(wakeFor(ends)).toBe(ends.length === 0 ? 'none' : 'freed');
      }),
    );
  });
});

/** `store` with its `nextWakeAt` replaced (the scheduler asks it each time its loop goes idle). */
function withNextWakeAt(store: JobStore, nextWakeAt: (after?: number) => Promise<number | undefined>): JobStore {
  return new Proxy(store, {
    get(target, key) {
      if (key === 'nextWakeAt') return nextWakeAt;
      const value = Reflect.get(target, key) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

function wakeups(name: string, openStore: (dir: string) => Promise<{ store: JobStore; dispose: () => Promise<void> }>) {
  describe(`a queen on ${name} wakes its scheduler only for what a pass can act on (no poll timer to fall back on)`, () => {
    let dir: string | undefined;
    let dispose = async () => {};
    afterEach(async () => {
      await dispose();
      if (dir) await rm(dir, { recursive: true, force: true });
      dir = undefined;
    });

    /** A queen whose safety-net timer never fires in a test: only wake-ups move work. */
    async function open(capacity: number, wrap: (store: JobStore) => JobStore = (store) => store) {
      dir = await mkdtemp(join(tmpdir(), 'myrmex-wakeups-'));
      const opened = await openStore(dir);
      dispose = opened.dispose;
      // Nor do leases end within a test: their ends would wake it too.
      const queen = await Queen.open({ store: wrap(opened.store), ant: { capacity }, pollIntervalMs: 600_000, attemptLeaseMs: 600_000 });
      let passes = 0;
      queen.onSchedulerPass(() => passes++);
      await queen.start();
      return { queen, passes: () => passes };
    }

    async function ended(queen: Queen, ids: readonly string[]): Promise<string[]> {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const states = (await Promise.all(ids.map((id) => queen.getJob(id)))).map((job) => job?.state ?? 'missing');
        if (states.every((state) => ['COMPLETED', 'FAILED', 'CANCELLED'].includes(state))) return states;
        if (Date.now() > deadline) throw new Error(`jobs not ended after 60 s: ${states.join(', ')}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }

    it('a change committed while a pass reads when to wake next is not lost', async () => {
      // The store's answer to "when next?" is held until a job has been submitted meanwhile.
      let hold: Promise<void> | undefined;
      let asked = () => {};
      const reading = new Promise<void>((resolve) => {
        asked = resolve;
      });
      let release = () => {};
      const wrap = (store: JobStore): JobStore =>
        withNextWakeAt(store, async (after) => {
          if (hold) {
            asked();
            await hold;
          }
          return store.nextWakeAt(after);
        });
      const { queen } = await open(2, wrap);
      try {
        await queen.applyDefinition('job_type: one\ntasks:\n  - task_type: a\n    script: ["true"]\n');
        hold = new Promise<void>((resolve) => {
          release = resolve;
        });
        const first = await queen.submit({ jobType: 'one' });
        await reading;
        const second = await queen.submit({ jobType: 'one' });
        hold = undefined;
        release();
        expect(await ended(queen, [first.id, second.id])).toEqual(['COMPLETED', 'COMPLETED']);
      } finally {
        release();
        await queen.stop();
      }
    });

    it('one job at a time: one pass per job, not one per change (three before)', async () => {
      const { queen, passes } = await open(4);
      try {
        await queen.applyDefinition('job_type: one\ntasks:\n  - task_type: a\n    script: ["true"]\n');
        const before = passes();
        for (let i = 0; i < 10; i++) await ended(queen, [(await queen.submit({ jobType: 'one' })).id]);
        // The timer's wake-up at the next lease end may add a pass; three per job would be 30.
        expect(passes() - before).toBeLessThanOrEqual(15);
      } finally {
        await queen.stop();
      }
    });

    it('an end wakes it when tasks wait for the slot it frees', async () => {
      const { queen } = await open(1);
      try {
        await queen.applyDefinition('job_type: one\ntasks:\n  - task_type: a\n    script: ["true"]\n');
        // Admitted together, so three READY tasks wait for one slot and only ends can start the next.
        const jobs = await queen.submitMany([{ jobType: 'one' }, { jobType: 'one' }, { jobType: 'one' }]);
        expect(
          await ended(
            queen,
            jobs.map((job) => job.id),
          ),
        ).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED']);
      } finally {
        await queen.stop();
      }
    });

    it('does not spin while max_concurrency holds a due job, and admits it when the place frees', async () => {
      // What the scheduler asks the store when it goes idle, and the answer: a due moment made its timer 0 ms (a spin).
      const asked: { after: number | undefined; wake: number | undefined }[] = [];
      const wrap = (store: JobStore): JobStore =>
        withNextWakeAt(store, async (after) => {
          const wake = await store.nextWakeAt(after);
          asked.push({ after, wake });
          return wake;
        });
      const { queen } = await open(4, wrap);
      try {
        const gate = join(dir!, 'open');
        await queen.applyDefinition(
          `job_type: capped\nmax_concurrency: 1\ntasks:\n  - task_type: a\n    script: ["while [ ! -f ${gate} ]; do sleep 0.02; done"]\n`,
        );
        const first = await queen.submit({ jobType: 'capped' });
        const held = await queen.submit({ jobType: 'capped' });
        // The pass that holds it back starts after this (on a later turn), and ends by asking when to wake next.
        const seen = asked.length;
        await expect.poll(async () => (await queen.getJob(first.id))?.state).toBe('EXECUTING');
        await expect.poll(() => asked.length).toBeGreaterThan(seen);
        for (const { after, wake } of asked.slice(seen)) {
          expect(after).toBeDefined();
          if (wake !== undefined) expect(wake).toBeGreaterThan(after!);
        }
        expect((await queen.getJob(held.id))?.state).toBe('PENDING');
        await writeFile(gate, '');
        expect(await ended(queen, [first.id, held.id])).toEqual(['COMPLETED', 'COMPLETED']);
      } finally {
        await queen.stop();
      }
    });

    it('still wakes for what ends make possible: a diamond, a backlog on one slot, max_concurrency, a retry', async () => {
      const { queen } = await open(1);
      try {
        await queen.applyDefinition(
          'job_type: diamond\ntasks:\n  - task_type: a\n    script: ["true"]\n  - task_type: b\n    needs: [a]\n    script: ["true"]\n' +
            '  - task_type: c\n    needs: [a]\n    script: ["true"]\n  - task_type: d\n    needs: [b, c]\n    script: ["true"]\n',
        );
        await queen.applyDefinition('job_type: capped\nmax_concurrency: 1\ntasks:\n  - task_type: a\n    script: ["true"]\n');
        const mark = join(dir!, 'mark');
        await queen.applyDefinition(
          `job_type: flaky\ntasks:\n  - task_type: a\n    retry: 2\n    script: ["test -f ${mark} || { touch ${mark}; exit 1; }"]\n`,
        );
        const ids = [];
        for (let i = 0; i < 3; i++) ids.push((await queen.submit({ jobType: 'diamond' })).id);
        for (let i = 0; i < 3; i++) ids.push((await queen.submit({ jobType: 'capped' })).id);
        ids.push((await queen.submit({ jobType: 'flaky' })).id);
        expect(await ended(queen, ids)).toEqual(ids.map(() => 'COMPLETED'));
      } finally {
        await queen.stop();
      }
    });
  });
}

wakeups('SQLite', async (dir) => ({ store: SqliteStore.open({ path: join(dir, 'q.db') }), dispose: async () => {} }));

const pg = await postgres();
pg.describe('PostgreSQL', () =>
  wakeups('PostgreSQL', async () => {
    const db = await pg.freshDatabase();
    const store = PostgresStore.open({ url: db.url, poolSize: 4 });
    await store.opened();
    return { store, dispose: () => db.dispose() };
  }),
);

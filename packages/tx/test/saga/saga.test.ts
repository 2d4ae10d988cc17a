import { freshAll } from '@myrmex/test-utils';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import {
  compensateSaga,
  planSaga,
  retrySaga,
  SagaAdminError,
  type SagaDefinition,
  SagaRunner,
  SagaStore,
  type StepContext,
} from '../../src/saga/index.js';
import { type AnyManager, type Opened, openManager, targets } from '../support/databases.js';
import { calls, createVendor, effects, trip, vendorCall } from './trip.js';

// The contract every store dialect meets: the same saga behaviour on PostgreSQL, MariaDB and SQLite.
for (const target of targets) {
  const { kind } = target;
  target.describe(`sagas on ${kind}`, () => {
    const db = freshAll(target.fresh);
    let opened: Opened;
    let tm: AnyManager;
    let store: SagaStore;
    let n = 0;
    const id = () => `saga-${kind}-${++n}`;
    beforeAll(async () => {
      opened = openManager(kind, db.current.url, { max: 6 });
      tm = opened.tm;
      store = new SagaStore(tm);
      await store.ensureSchema();
      await store.ensureSchema(); // idempotent
    });
    afterAll(() => opened.close());
    beforeEach(async () => {
      await tm.execute('DROP TABLE IF EXISTS effects');
      await tm.execute('DROP TABLE IF EXISTS calls');
      await createVendor(tm);
    });

    it('runs steps in order, hands each its idempotency key and the results so far, and records a timeline', async () => {
      const seen: Array<Pick<StepContext, 'idempotencyKey' | 'results' | 'data' | 'attempt'>> = [];
      const saga: SagaDefinition<{ who: string }> = {
        name: 'ordered',
        steps: ['a', 'b', 'c'].map((name) => ({
          name,
          execute: (ctx: StepContext<{ who: string }>) => {
            seen.push({ idempotencyKey: ctx.idempotencyKey, results: ctx.results, data: ctx.data, attempt: ctx.attempt });
            return `${name} for ${ctx.data.who}`;
          },
        })),
      };
      const runner = new SagaRunner({ store, sagas: [saga] });
      const sagaId = id();
      const outcome = await runner.start('ordered', { id: sagaId, data: { who: 'ada' } });
      expect(outcome).toMatchObject({ status: 'completed', parked: false, results: { a: 'a for ada', b: 'b for ada', c: 'c for ada' } });
      expect(seen.map((s) => s.idempotencyKey)).toEqual([`${sagaId}:a`, `${sagaId}:b`, `${sagaId}:c`]);
      expect(seen[2]?.results).toEqual({ a: 'a for ada', b: 'b for ada' });
      const timeline = await store.timeline(sagaId);
      expect(timeline.map((e) => `${e.kind}${e.step ? `:${e.step}` : ''}`)).toEqual([
        'started',
        'step-started:a',
        'step-done:a',
        'step-started:b',
        'step-done:b',
        'step-started:c',
        'step-done:c',
        'completed',
      ]);
      expect(timeline.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      const record = await store.get(sagaId);
      expect(record).toMatchObject({ status: 'completed', owner: null, version: 8 });
      // Starting the same id again resumes it: nothing runs twice.
      expect((await runner.start('ordered', { id: sagaId, data: { who: 'bob' } })).status).toBe('completed');
      expect(seen).toHaveLength(3);
    });

    it('a failing vendor triggers compensation of what completed, in reverse order, each effect once', async () => {
      const runner = new SagaRunner({ store, sagas: [trip(tm, { carFails: true })] });
      const sagaId = id();
      const outcome = await runner.start('trip', { id: sagaId });
      expect(outcome.status).toBe('compensated');
      expect(outcome.error).toMatch(/car vendor refused/);
      expect(await effects(tm)).toEqual([
        `${sagaId}:flight`,
        `${sagaId}:hotel`,
        `${sagaId}:hotel:compensate`,
        `${sagaId}:flight:compensate`,
      ]);
      const record = await store.get(sagaId);
      expect(record?.state.steps.car).toMatchObject({ status: 'failed', attempts: 2 });
      expect(record?.state.steps.flight?.status).toBe('compensated');
    });

    it('parallel groups run together; a failure in the group compensates the siblings that finished', async () => {
      // A barrier: each step of the group waits until all three are running, so a sequential runner would hang.
      let inFlight = 0;
      let maxInFlight = 0;
      let allIn!: () => void;
      const barrier = new Promise<void>((resolve) => {
        allIn = resolve;
      });
      const parallelStep = (name: string, fails = false) => ({
        name,
        execute: async (ctx: StepContext) => {
          inFlight += 1;
          maxInFlight = Math.max(maxInFlight, inFlight);
          if (name !== 'first') {
            if (inFlight === 3) allIn();
            await barrier;
          }
          inFlight -= 1;
          if (fails) throw new Error(`${name} failed`);
          await vendorCall(tm, ctx.idempotencyKey);
        },
        compensate: (ctx: StepContext) => vendorCall(tm, ctx.idempotencyKey),
      });
      const saga: SagaDefinition = {
        name: 'fanout',
        steps: [parallelStep('first'), { parallel: [parallelStep('x'), parallelStep('y'), parallelStep('z', true)] }],
      };
      const runner = new SagaRunner({ store, sagas: [saga] });
      const sagaId = id();
      expect((await runner.start('fanout', { id: sagaId })).status).toBe('compensated');
      expect(maxInFlight).toBe(3);
      const done = await effects(tm);
      expect(done.filter((k) => k.endsWith(':compensate')).sort()).toEqual(
        [`${sagaId}:first:compensate`, `${sagaId}:x:compensate`, `${sagaId}:y:compensate`].sort(),
      );
      expect(done.at(-1)).toBe(`${sagaId}:first:compensate`);
    });

    it('retries a step with the same key; a timed-out attempt counts as a failure', async () => {
      const keys: string[] = [];
      let attempt = 0;
      const saga: SagaDefinition = {
        name: 'flaky',
        steps: [
          {
            name: 'slow-then-ok',
            retry: { attempts: 3, backoffMs: 1 },
            timeoutMs: 100,
            execute: async (ctx) => {
              keys.push(ctx.idempotencyKey);
              attempt += 1;
              if (attempt === 1) await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
              if (attempt === 2) throw new Error('transient');
              return attempt;
            },
          },
        ],
      };
      const runner = new SagaRunner({ store, sagas: [saga] });
      const sagaId = id();
      expect(await runner.start('flaky', { id: sagaId })).toMatchObject({ status: 'completed', results: { 'slow-then-ok': 3 } });
      expect(new Set(keys)).toEqual(new Set([`${sagaId}:slow-then-ok`]));
      const errors = (await store.timeline(sagaId)).filter((e) => e.kind === 'step-error').map((e) => String(e.detail.error));
      expect(errors[0]).toMatch(/timed out after 100 ms/);
      expect(errors[1]).toMatch(/transient/);
    });

    it('after a pivot step the saga only goes forward: a later failure leaves it failed, and retry finishes it', async () => {
      let carWorks = false;
      const saga: SagaDefinition = {
        name: 'pivoted',
        steps: [
          { name: 'hold', execute: (ctx) => vendorCall(tm, ctx.idempotencyKey), compensate: (ctx) => vendorCall(tm, ctx.idempotencyKey) },
          { name: 'charge', pivot: true, execute: (ctx) => vendorCall(tm, ctx.idempotencyKey) },
          {
            name: 'ship',
            retry: { attempts: 2, backoffMs: 1 },
            execute: async (ctx) => {
              if (!carWorks) throw new Error('carrier down');
              await vendorCall(tm, ctx.idempotencyKey);
            },
          },
        ],
      };
      const runner = new SagaRunner({ store, sagas: [saga] });
      const sagaId = id();
      const outcome = await runner.start('pivoted', { id: sagaId });
      expect(outcome.status).toBe('failed');
      expect(await effects(tm)).toEqual([`${sagaId}:hold`, `${sagaId}:charge`]);
      await expect(compensateSaga(store, sagaId)).rejects.toThrow(/pivot/);
      carWorks = true;
      await retrySaga(store, sagaId);
      const recovered = await runner.recover();
      expect(recovered.map((o) => [o.id, o.status])).toEqual([[sagaId, 'completed']]);
      expect(await effects(tm)).toEqual([`${sagaId}:hold`, `${sagaId}:charge`, `${sagaId}:ship`]);
      await expect(retrySaga(store, sagaId)).rejects.toBeInstanceOf(SagaAdminError);
    });

    it('choreography: a step completed by an event, redelivery ignored; an operator can compensate a waiting saga', async () => {
      const saga: SagaDefinition = {
        name: 'choreo',
        steps: [
          { name: 'order', execute: (ctx) => vendorCall(tm, ctx.idempotencyKey), compensate: (ctx) => vendorCall(tm, ctx.idempotencyKey) },
          { name: 'paid', awaitEvent: 'PaymentCaptured' },
          { name: 'ship', execute: (ctx) => vendorCall(tm, ctx.idempotencyKey) },
        ],
      };
      // Two runners, as two processes would have: one starts, the other receives the event.
      const starter = new SagaRunner({ store, sagas: [saga] });
      const consumer = new SagaRunner({ store, sagas: [saga] });
      const sagaId = id();
      expect(await starter.start('choreo', { id: sagaId })).toMatchObject({ status: 'running', parked: true });
      expect((await store.get(sagaId))?.owner).toBeNull();
      const event = { id: 'evt-1', type: 'PaymentCaptured', payload: { amount: 42 } };
      expect(await consumer.deliver(sagaId, event)).toMatchObject({ status: 'completed', results: { paid: { amount: 42 } } });
      expect((await consumer.deliver(sagaId, event))?.status).toBe('completed');
      expect(await effects(tm)).toEqual([`${sagaId}:order`, `${sagaId}:ship`]);

      const other = id();
      await starter.start('choreo', { id: other });
      await compensateSaga(store, other);
      expect((await consumer.recover()).map((o) => [o.id, o.status])).toEqual([[other, 'compensated']]);
      expect((await effects(tm)).filter((k) => k.startsWith(other))).toEqual([`${other}:order`, `${other}:order:compensate`]);
    });

    it('two runners recovering the same orphan at once: one takes it, each step runs once', async () => {
      const sagaId = id();
      // An orphan: created by a runner that died before it ran any step (its lease already expired).
      const saga = trip(tm);
      const plan = planSaga(saga);
      const { initialState } = await import('../../src/saga/state.js');
      await store.create(sagaId, 'trip', initialState(plan, null), 'dead-runner', Date.now() - 1, Date.now());
      const runners = [new SagaRunner({ store, sagas: [saga] }), new SagaRunner({ store, sagas: [saga] })];
      const results = await Promise.all(runners.map((r) => r.recover()));
      expect(results.flat().map((o) => o.status)).toEqual(['completed']);
      expect(await effects(tm)).toEqual([`${sagaId}:flight`, `${sagaId}:hotel`, `${sagaId}:car`]);
      expect(await calls(tm)).toBe(3);
    });
  });
}

it('definitions are checked, naming the saga, the step and the field', () => {
  const ok = { name: 'a', execute: () => 1 };
  expect(() => planSaga({ name: 'bad name!', steps: [ok] })).toThrow(/saga name/);
  expect(() => planSaga({ name: 's', steps: [] })).toThrow(/non-empty/);
  expect(() => planSaga({ name: 's', steps: [ok, ok] })).toThrow(/two steps are named a/);
  expect(() => planSaga({ name: 's', steps: [{ name: 'x' } as never] })).toThrow(/steps\[0\] \(x\)\.execute/);
  expect(() => planSaga({ name: 's', steps: [{ ...ok, retry: 0 }] })).toThrow(/retry attempts/);
  expect(() => planSaga({ name: 's', steps: [{ parallel: [{ ...ok, pivot: true }] }] })).toThrow(/pivot step cannot run in a parallel/);
  expect(() => planSaga({ name: 's', steps: [{ name: 'e', awaitEvent: 'X', execute: () => 1 }] })).toThrow(/either execute or awaitEvent/);
  expect(() => new SagaRunner({ store: {} as never, sagas: [] })).toThrow(/SagaStore/);
});

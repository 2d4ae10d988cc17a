import { freshAll } from '@myrmex/test-utils';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SagaRunner, SagaStore } from '../../src/saga/index.js';
import { bundledChild, runUntilKilled } from '../support/child.js';
import { type AnyManager, freshSqliteFile, type Opened, openManager, targets } from '../support/databases.js';
import { calls, createVendor, effects, trip } from './trip.js';

const child = bundledChild(new URL('./crash-child.ts', import.meta.url));

// Every boundary (the transition is committed, the next one not yet) and the inside of every step
// (its vendor call made, the step not marked done), forward and while compensating.
const FORWARD = [
  'started:',
  'step-started:flight',
  'inside:flight',
  'step-done:flight',
  'step-started:hotel',
  'inside:hotel',
  'step-done:hotel',
];
const FORWARD_END = ['step-started:car', 'inside:car', 'step-done:car'];
const BACKWARD = [
  'step-error:car',
  'compensating:',
  'step-compensating:hotel',
  'inside-compensate:hotel',
  'step-compensated:hotel',
  'step-compensating:flight',
  'inside-compensate:flight',
];

const crashTargets = targets.map((t) => (t.kind === 'sqlite' ? { ...t, fresh: freshSqliteFile } : t));

for (const target of crashTargets) {
  const { kind } = target;
  target.describe(`saga recovery after kill -9 on ${kind}`, () => {
    const db = freshAll(target.fresh);
    let opened: Opened;
    let tm: AnyManager;
    let store: SagaStore;
    beforeAll(async () => {
      opened = openManager(kind, db.current.url, { max: 4 });
      tm = opened.tm;
      store = new SagaStore(tm);
      await store.ensureSchema();
      await createVendor(tm);
    });
    afterAll(() => opened.close());

    it('a process killed at any step boundary or inside a step: another process finishes or compensates, each effect once', {
      timeout: 180_000,
    }, async () => {
      const cases = [
        ...[...FORWARD, ...FORWARD_END].map((point) => ({ point, carFails: false })),
        ...[...FORWARD, ...BACKWARD].map((point) => ({ point, carFails: true })),
      ]
        .map((c, i) => ({ ...c, sagaId: `crash-${i}-${c.point.replace(/[^a-z-]/g, '')}` }))
        // Every point on one of the three stores, to keep the suite's time in budget (the stores' transitions are the
        // same contract, tested on all three dialects in saga.test.ts). Points inside a step and boundaries are dealt
        // in turn separately, so each store gets both.
        .sort((a, b) => Number(a.point.startsWith('inside')) - Number(b.point.startsWith('inside')))
        .filter((_, i) => i % crashTargets.length === crashTargets.indexOf(target));
      // A few children at a time: each is a cold Node start.
      const queue = [...cases];
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          for (let c = queue.shift(); c !== undefined; c = queue.shift()) {
            await runUntilKilled(child, [kind, db.current.url, c.sagaId, c.point, c.carFails ? '1' : '0']);
          }
        }),
      );
      const survivors = {
        ok: new SagaRunner({ store, sagas: [trip(tm)], leaseMs: 300 }),
        failing: new SagaRunner({ store, sagas: [trip(tm, { carFails: true })], leaseMs: 300 }),
      };
      for (const c of cases) {
        const runner = c.carFails ? survivors.failing : survivors.ok;
        // The dead holder's lease runs out after 300 ms; until then resume() reports the saga held elsewhere.
        let outcome = await runner.resume(c.sagaId);
        while (outcome.parked) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          outcome = await runner.resume(c.sagaId);
        }
        const mine = (await effects(tm)).filter((k) => k.startsWith(`${c.sagaId}:`)).map((k) => k.slice(c.sagaId.length + 1));
        if (c.carFails) {
          expect({ point: c.point, status: outcome.status, mine }).toEqual({
            point: c.point,
            status: 'compensated',
            mine: ['flight', 'hotel', 'hotel:compensate', 'flight:compensate'],
          });
        } else {
          expect({ point: c.point, status: outcome.status, mine }).toEqual({
            point: c.point,
            status: 'completed',
            mine: ['flight', 'hotel', 'car'],
          });
        }
      }
      // Steps that were interrupted ran again (more calls than effects): the vendor's deduplication kept one effect each.
      expect(await calls(tm)).toBeGreaterThan((await effects(tm)).length);
    });
  });
}

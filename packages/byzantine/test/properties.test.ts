import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { omMessageCount, omMessagesSentBy, runByzantine, STRATEGY_NAMES, type StrategyName } from '../src/index.js';

/** n >= 3m + 1 with m <= 3, kept small so a few hundred runs take about a second. */
const omCase = fc.integer({ min: 0, max: 3 }).chain((m) =>
  fc.integer({ min: Math.max(3 * m + 1, 2), max: 3 * m + (m === 3 ? 2 : 4) }).chain((n) =>
    fc.record({
      n: fc.constant(n),
      m: fc.constant(m),
      traitors: fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), { maxLength: m }),
      strategy: fc.constantFrom(...STRATEGY_NAMES),
      order: fc.constantFrom('ATTACK', 'RETREAT', 'HOLD'),
      seed: fc.integer({ min: 0, max: 0xffffffff }),
    }),
  ),
);

function expectedMessages(n: number, m: number, traitors: readonly number[], strategy: StrategyName): number {
  const all = omMessageCount(n, m);
  if (strategy !== 'silent') return all;
  return all - traitors.reduce((sum, t) => sum + omMessagesSentBy(t, n, m), 0);
}

describe('OM(m) properties', () => {
  it('IC1 and IC2 hold and the message count is exact for n >= 3m + 1 and at most m traitors', async () => {
    await fc.assert(
      fc.asyncProperty(omCase, async ({ n, m, traitors, strategy, order, seed }) => {
        const result = await runByzantine({ generals: n, rounds: m, traitors, strategy, order, seed });
        expect(result.ic1).toBe(true);
        expect(result.ic2).toBe(true);
        expect(result.messages).toBe(expectedMessages(n, m, traitors, strategy));
      }),
      { numRuns: 300 },
    );
  });

  it('counts each general sends add up to the formula', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 2, max: 12 }), (m, n) => {
        let sum = 0;
        for (let g = 0; g < n; g++) sum += omMessagesSentBy(g, n, m);
        expect(sum).toBe(omMessageCount(n, m));
      }),
    );
  });
});

describe('SM(m) properties', () => {
  it('IC1 and IC2 hold for n >= m + 2 and at most m traitors', async () => {
    const smCase = fc.integer({ min: 0, max: 2 }).chain((m) =>
      fc.integer({ min: m + 2, max: m + 4 }).chain((n) =>
        fc.record({
          n: fc.constant(n),
          m: fc.constant(m),
          traitors: fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), { maxLength: m }),
          strategy: fc.constantFrom(...STRATEGY_NAMES),
          seed: fc.integer({ min: 0, max: 1000 }),
        }),
      ),
    );
    await fc.assert(
      fc.asyncProperty(smCase, async ({ n, m, traitors, strategy, seed }) => {
        const result = await runByzantine({ algorithm: 'sm', generals: n, rounds: m, traitors, strategy, seed });
        expect(result.ic1).toBe(true);
        expect(result.ic2).toBe(true);
      }),
      { numRuns: 40 },
    );
  });
});

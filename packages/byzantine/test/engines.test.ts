import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByzantineInputError, runByzantine, STRATEGY_NAMES } from '../src/index.js';

const anyCase = (algorithm: 'om' | 'sm') =>
  fc.integer({ min: 0, max: algorithm === 'om' ? 3 : 2 }).chain((m) =>
    fc.integer({ min: 2, max: algorithm === 'om' ? Math.max(3 * m + 2, 4) : m + 4 }).chain((n) =>
      fc.record({
        algorithm: fc.constant(algorithm),
        generals: fc.constant(n),
        rounds: fc.constant(m),
        traitors: fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), { maxLength: m + 1 }),
        strategy: fc.constantFrom(...STRATEGY_NAMES),
        order: fc.constantFrom('ATTACK', 'RETREAT', 'HOLD'),
        seed: fc.integer({ min: 0, max: 0xffffffff }),
        workers: fc.integer({ min: 1, max: 3 }),
      }),
    ),
  );

/** Everything but timing and the engine's name must be identical. */
const comparable = ({ algorithmMs: _ms, engine: _engine, ...rest }: Awaited<ReturnType<typeof runByzantine>>) => rest;

describe('the fast engine and the worker-thread actor engine agree', () => {
  // Unsafe sizes and more than m traitors are included on purpose: the engines must agree on
  // runs that break IC1/IC2 too, not only on the ones that succeed.
  for (const algorithm of ['om', 'sm'] as const) {
    it(`on generated ${algorithm.toUpperCase()} cases`, async () => {
      await fc.assert(
        fc.asyncProperty(anyCase(algorithm), async ({ workers, ...options }) => {
          const fast = await runByzantine({ ...options, unsafe: true, engine: 'fast' });
          const actors = await runByzantine({ ...options, unsafe: true, engine: 'actors', workers });
          expect(comparable(actors)).toEqual(comparable(fast));
        }),
        { numRuns: 12 },
      );
      // Each actor run starts fresh worker threads; on a loaded CI machine that is seconds per case.
    }, 180_000);
  }

  it('on OM(2) with 40 generals spread over two workers', async () => {
    const options = { generals: 40, rounds: 2, traitors: [0, 17], strategy: 'random', seed: 7 } as const;
    const fast = await runByzantine(options);
    const actors = await runByzantine({ ...options, engine: 'actors', workers: 2 });
    expect(actors.messages).toBe(39 + 39 * 38 + 39 * 38 * 37);
    expect(comparable(actors)).toEqual(comparable(fast));
  }, 60_000);

  it('the actor engine refuses custom strategies, which cannot cross to a worker', async () => {
    const custom = { name: 'mine', send: () => 'ATTACK' };
    await expect(runByzantine({ generals: 4, rounds: 1, traitors: [1], strategy: custom, engine: 'actors' })).rejects.toThrow(
      ByzantineInputError,
    );
  });
});

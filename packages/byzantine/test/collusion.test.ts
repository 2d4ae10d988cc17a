import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CustomStrategy, colludingAdversary, runByzantine } from '../src/index.js';

/** Every set of k distinct ids out of 0..n-1. */
function subsets(n: number, k: number): number[][] {
  if (k === 0) return [[]];
  const out: number[][] = [];
  const walk = (from: number, chosen: number[]) => {
    if (chosen.length === k) out.push(chosen);
    else for (let id = from; id < n; id++) walk(id + 1, [...chosen, id]);
  };
  walk(0, []);
  return out;
}

const agreementBroken = async (generals: number, rounds: number, traitors: number[], strategy: CustomStrategy) => {
  const result = await runByzantine({ generals, rounds, traitors, strategy, unsafe: true });
  return !(result.ic1 && result.ic2);
};

describe('colluding traitors: one adversary choosing every traitor message', () => {
  // Exhaustive over every placement of m traitors: 3 + 4 + 15 + 21 runs.
  for (const m of [1, 2]) {
    it(`break OM(${m}) at n = 3m = ${3 * m} whenever the m traitors are lieutenants (the bound is tight)`, async () => {
      const n = 3 * m;
      for (const traitors of subsets(n, m).filter((t) => !t.includes(0))) {
        expect(await agreementBroken(n, m, traitors, colludingAdversary({ generals: n, traitors })), `traitors ${traitors}`).toBe(true);
      }
    });
    it(`never break OM(${m}) at n = 3m + 1 = ${3 * m + 1}, wherever the m traitors are`, async () => {
      const n = 3 * m + 1;
      for (const traitors of subsets(n, m)) {
        expect(await agreementBroken(n, m, traitors, colludingAdversary({ generals: n, traitors })), `traitors ${traitors}`).toBe(false);
      }
    });
  }

  it('break OM(3) at n = 9 and not at n = 10, for a sample of placements', async () => {
    expect(await agreementBroken(9, 3, [2, 5, 8], colludingAdversary({ generals: 9, traitors: [2, 5, 8] }))).toBe(true);
    expect(await agreementBroken(10, 3, [0, 5, 8], colludingAdversary({ generals: 10, traitors: [0, 5, 8] }))).toBe(false);
    expect(await agreementBroken(10, 3, [2, 5, 8], colludingAdversary({ generals: 10, traitors: [2, 5, 8] }))).toBe(false);
  });

  it('no adversary at all breaks OM(m) with n >= 3m + 1 and at most m traitors (Theorem 1, property)', async () => {
    // The adversary is an arbitrary table from (sender, recipient, path) to a value or silence, shared by all traitors.
    const adversary = fc.func(fc.constantFrom<string | undefined>('ATTACK', 'RETREAT', undefined));
    const runCase = fc.integer({ min: 1, max: 2 }).chain((m) =>
      fc.record({
        m: fc.constant(m),
        n: fc.integer({ min: 3 * m + 1, max: 3 * m + 2 }),
        traitorSeed: fc.uniqueArray(fc.integer({ min: 0, max: 3 * m }), { minLength: 1, maxLength: m }),
        order: fc.constantFrom('ATTACK', 'RETREAT'),
        choose: adversary,
      }),
    );
    await fc.assert(
      fc.asyncProperty(runCase, async ({ m, n, traitorSeed, order, choose }) => {
        const strategy: CustomStrategy = {
          name: 'arbitrary',
          send: ({ sender, recipient, path }) => choose(`${sender}>${recipient}@${path.join('.')}`),
        };
        const result = await runByzantine({ generals: n, rounds: m, traitors: traitorSeed, order, strategy });
        expect(result.ic1 && result.ic2).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('refuses a plan that does not describe a run', () => {
    expect(() => colludingAdversary({ generals: 4, traitors: [4] })).toThrow('plan.traitors: must be a list of general ids in 0..3');
    expect(() => colludingAdversary(null as never)).toThrow('plan: must be { generals, traitors, order? }');
  });
});

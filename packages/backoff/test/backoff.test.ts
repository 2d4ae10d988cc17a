import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffCeiling, fullJitter, jitter } from '../src/index.js';

describe('full jitter (AWS: sleep = random_between(0, min(cap, base * 2^attempt)))', () => {
  it('property: every delay is a whole number in [0, min(cap, base * 2^attempt)]', () => {
    fc.assert(
      fc.property(
        fc.nat(2000),
        fc.nat(10_000),
        fc.nat(1_000_000),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, baseMs, capMs, r) => {
          const delay = fullJitter(attempt, { baseMs, capMs }, () => r);
          expect(Number.isSafeInteger(delay)).toBe(true);
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThanOrEqual(baseMs === 0 ? 0 : Math.min(capMs, baseMs * 2 ** Math.min(attempt, 1024)));
        },
      ),
    );
  });

  it('reaches both ends: 0 at the lowest draw, the ceiling at the highest', () => {
    const policy = { baseMs: 100, capMs: 5000 };
    expect(fullJitter(0, policy, () => 0)).toBe(0);
    expect(fullJitter(0, policy, () => 0.999_999_9)).toBe(100);
    expect(fullJitter(3, policy, () => 0.999_999_9)).toBe(800);
    expect(fullJitter(10, policy, () => 0.999_999_9)).toBe(5000);
    // A random source that misbehaves (returns 1) still stays within the ceiling.
    expect(jitter(800, () => 1)).toBe(800);
  });

  it('the ceiling doubles per attempt up to the cap, and stays finite for huge attempts', () => {
    expect([0, 1, 2, 3, 4].map((attempt) => backoffCeiling(attempt, { baseMs: 100, capMs: 1000 }))).toEqual([100, 200, 400, 800, 1000]);
    expect(backoffCeiling(1_000_000, { baseMs: 1, capMs: 60_000 })).toBe(60_000);
    expect(backoffCeiling(5, { baseMs: 0, capMs: 60_000 })).toBe(0);
  });

  it('is uniform: over many draws each tenth of [0, ceiling] gets about a tenth', () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const buckets = new Array(10).fill(0);
    for (let i = 0; i < 20_000; i++) buckets[Math.min(9, Math.floor(fullJitter(2, { baseMs: 250, capMs: 10_000 }, random) / 100))]++;
    for (const count of buckets) expect(count).toBeGreaterThan(1700);
  });

  it('refuses bad input with the field named', () => {
    expect(() => fullJitter(-1, { baseMs: 1, capMs: 1 })).toThrow('attempt must be an integer >= 0');
    expect(() => fullJitter(0, { baseMs: -1, capMs: 1 })).toThrow('policy.baseMs must be a finite number >= 0');
    expect(() => fullJitter(0, { baseMs: 1, capMs: Number.NaN })).toThrow('policy.capMs');
    expect(() => jitter(-5)).toThrow('ceilingMs must be a finite number >= 0');
  });
});

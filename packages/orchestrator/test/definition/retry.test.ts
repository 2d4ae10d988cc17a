import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Backoff, retryDelayMs } from '../../src/definition/index.js';

const task = (delayBetweenRetriesMs: number, backoff: Backoff) => ({ delayBetweenRetriesMs, backoff });

describe('retryDelayMs', () => {
  it('fixed: the same delay after every attempt', () => {
    const fixed = task(2000, { strategy: 'fixed', maxDelayMs: 2000, jitter: false });
    expect([1, 2, 3, 50].map((attempt) => retryDelayMs(fixed, attempt))).toEqual([2000, 2000, 2000, 2000]);
  });

  it('exponential: doubles per failed attempt up to the cap', () => {
    const exponential = task(1000, { strategy: 'exponential', maxDelayMs: 10_000, jitter: false });
    expect([1, 2, 3, 4, 5, 6, 1000, 100_000].map((attempt) => retryDelayMs(exponential, attempt))).toEqual([
      1000, 2000, 4000, 8000, 10_000, 10_000, 10_000, 10_000,
    ]);
    expect(retryDelayMs(task(0, { strategy: 'exponential', maxDelayMs: 10_000, jitter: false }), 2000)).toBe(0);
  });

  it('full jitter: the extremes of the random draw give zero and the computed delay', () => {
    const jittered = task(1000, { strategy: 'exponential', maxDelayMs: 10_000, jitter: true });
    expect(retryDelayMs(jittered, 3, () => 0)).toBe(0);
    expect(retryDelayMs(jittered, 3, () => 0.999_999_999_9)).toBe(4000);
    expect(retryDelayMs(jittered, 3, () => 0.5)).toBe(2000);
  });

  it('full jitter stays within [0, min(cap, base * 2^(n-1))] for any draw, even a misbehaving one', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 60_000 }),
        fc.integer({ min: 0, max: 600_000 }),
        fc.integer({ min: 1, max: 2000 }),
        fc.double({ min: -1, max: 2, noNaN: true }),
        fc.constantFrom('fixed' as const, 'exponential' as const),
        (base, extra, attempt, draw, strategy) => {
          const maxDelayMs = base + extra;
          const jittered = task(base, { strategy, maxDelayMs, jitter: true });
          const delay = retryDelayMs(jittered, attempt, () => draw);
          const bound = retryDelayMs({ ...jittered, backoff: { ...jittered.backoff, jitter: false } }, attempt);
          expect(bound).toBe(strategy === 'fixed' || base === 0 ? base : Math.min(maxDelayMs, base * 2 ** (attempt - 1)));
          expect(Number.isInteger(delay)).toBe(true);
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThanOrEqual(bound);
        },
      ),
    );
  });

  it('rejects attempt numbers below 1 or fractional', () => {
    const fixed = task(1, { strategy: 'fixed', maxDelayMs: 1, jitter: false });
    expect(() => retryDelayMs(fixed, 0)).toThrow(RangeError);
    expect(() => retryDelayMs(fixed, 1.5)).toThrow('failedAttempt must be an integer >= 1, got 1.5');
  });
});

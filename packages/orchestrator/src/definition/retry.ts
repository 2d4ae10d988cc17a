import { jitter } from '@myrmex/backoff';
import type { TaskDefinition } from './model.js';

/**
 * How long to wait before the attempt after `failedAttempt` (1 for the first attempt).
 * Fixed: the delay between retries. Exponential: that delay doubled per failed attempt, capped at
 * the backoff's max delay. With jitter the wait is drawn uniformly from [0, computed] ("full
 * jitter"), which spreads retries of many jobs that failed together.
 */
export function retryDelayMs(
  task: Pick<TaskDefinition, 'delayBetweenRetriesMs' | 'backoff'>,
  failedAttempt: number,
  random: () => number = Math.random,
): number {
  if (!Number.isInteger(failedAttempt) || failedAttempt < 1) {
    throw new RangeError(`failedAttempt must be an integer >= 1, got ${failedAttempt}`);
  }
  const { delayBetweenRetriesMs: base, backoff } = task;
  // 2^(n-1) overflows to Infinity for huge n; the cap makes the result finite, but 0 * Infinity is NaN.
  const computed =
    backoff.strategy === 'exponential' && base > 0 ? Math.min(base * 2 ** Math.min(failedAttempt - 1, 1024), backoff.maxDelayMs) : base;
  if (!backoff.jitter) return computed;
  return jitter(computed, random);
}

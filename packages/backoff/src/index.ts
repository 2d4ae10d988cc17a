/**
 * The one backoff every Myrmex package uses between retries: "full jitter" as the AWS
 * Architecture Blog defines it (Marc Brooker, "Exponential Backoff And Jitter", 2015):
 *
 *   sleep = random_between(0, min(cap, base * 2 ** attempt))
 *
 * with `attempt` counting retries from 0. Delays are whole milliseconds, drawn uniformly from
 * 0 to the ceiling, both ends included.
 */

export interface BackoffPolicy {
  /** The ceiling of the first retry (attempt 0), in ms. */
  readonly baseMs: number;
  /** No ceiling is ever above this, in ms. */
  readonly capMs: number;
}

/** `min(cap, base * 2^attempt)`: the largest delay full jitter may draw for `attempt`. */
export function backoffCeiling(attempt: number, policy: BackoffPolicy): number {
  if (!Number.isSafeInteger(attempt) || attempt < 0) throw new RangeError(`attempt must be an integer >= 0, got ${attempt}`);
  check(policy);
  if (policy.baseMs === 0) return 0;
  // 2^attempt overflows to Infinity for a large attempt; the cap keeps the result finite.
  return Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(attempt, 1024));
}

/** A uniform whole number of milliseconds in [0, ceiling], both ends included. */
export function jitter(ceilingMs: number, random: () => number = Math.random): number {
  if (typeof ceilingMs !== 'number' || !Number.isFinite(ceilingMs) || ceilingMs < 0) {
    throw new RangeError(`ceilingMs must be a finite number >= 0, got ${String(ceilingMs)}`);
  }
  // random() is [0, 1) by contract; a source that returns 1 (or more) must not exceed the ceiling.
  const draw = Math.min(Math.max(random(), 0), 1 - Number.EPSILON);
  return Math.floor(draw * (Math.floor(ceilingMs) + 1));
}

/** Full jitter: the delay before retry `attempt` (0 for the first retry). */
export function fullJitter(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  return jitter(backoffCeiling(attempt, policy), random);
}

function check(policy: BackoffPolicy): void {
  if (policy === null || typeof policy !== 'object') throw new TypeError('policy must be { baseMs, capMs }');
  for (const field of ['baseMs', 'capMs'] as const) {
    const value = policy[field];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
      throw new RangeError(`policy.${field} must be a finite number >= 0, got ${String(value)}`);
  }
}

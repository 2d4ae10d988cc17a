import type { SecurityStore } from '../../store/security.js';

type Counted = (error: Error | null, result?: { current: number; ttl: number }) => void;

/**
 * A store for @fastify/rate-limit whose counters are rows of the queens' database, so N queens
 * behind a balancer allow a limit once rather than N times. It costs one write per counted request
 * (two with the per-organisation limit), which is why it is opt-in. Windows are fixed and aligned on
 * the epoch, so every queen agrees on where one starts without talking to the others.
 */
export function sharedRateLimitStore(security: SecurityStore) {
  return class SharedRateLimitStore {
    incr(key: string, done: Counted, timeWindow: number): void {
      const now = Date.now();
      const start = now - (now % timeWindow);
      security.countRequest(key, start, start + timeWindow).then(
        (current) => done(null, { current, ttl: start + timeWindow - now }),
        (error: Error) => done(error),
      );
    }

    /** Route-level limits share the same table: their keys already say what they count. */
    child(): this {
      return this;
    }
  };
}

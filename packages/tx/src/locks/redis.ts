import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { checkLockName, type DistributedLock, type Lease } from './fencing.js';

// Take the lock and bump the fencing counter in one step, so no two holders share a token.
const ACQUIRE = `if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return redis.call('INCR', KEYS[2]) end return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/**
 * A single-instance Redis lock with a TTL (SET NX PX) and a fencing token (INCR on a counter that
 * never expires). The TTL is what makes a paused holder lose the lock: fencing is what makes its
 * late write harmless.
 */
export function redisLock(redis: Redis, options: { prefix?: string; ttlMs?: number } = {}): DistributedLock {
  if (redis === null || typeof redis !== 'object' || typeof redis.eval !== 'function')
    throw new TypeError('redisLock(redis): expected an ioredis client');
  const prefix = options.prefix ?? 'myrmex:lock:';
  const ttlMs = options.ttlMs ?? 30_000;
  if (!Number.isInteger(ttlMs) || ttlMs < 10) throw new TypeError('redisLock options.ttlMs must be an integer >= 10');
  return {
    async acquire(name, { waitMs = 0 } = {}): Promise<Lease | undefined> {
      checkLockName(name);
      const owner = randomUUID();
      const key = `${prefix}${name}`;
      const deadline = Date.now() + waitMs;
      for (let delay = 5; ; delay = Math.min(delay * 2, 200)) {
        const token = Number(await redis.eval(ACQUIRE, 2, key, `${key}:fence`, owner, String(ttlMs)));
        if (token > 0)
          return {
            name,
            token,
            release: async () => {
              await redis.eval(RELEASE, 1, key, owner);
            },
          };
        if (Date.now() >= deadline) return undefined;
        await sleep(Math.min(delay, Math.max(1, deadline - Date.now())));
      }
    },
  };
}

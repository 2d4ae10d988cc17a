import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool, PoolClient } from 'pg';
import { checkIdentifier } from '../locking/identifiers.js';
import { checkLockName, type DistributedLock, type Lease } from './fencing.js';

/**
 * PostgreSQL advisory locks as distributed locks: the lock lives as long as the holder's session
 * (a dedicated connection), so a holder whose connection dies loses it at once. Tokens come from a
 * counter row per lock name, bumped in the same session right after the lock is taken.
 */
export function postgresLock(pool: Pool, options: { table?: string } = {}): DistributedLock & { ensureSchema(): Promise<void> } {
  if (pool === null || typeof pool !== 'object' || typeof pool.connect !== 'function')
    throw new TypeError('postgresLock(pool): expected a pg Pool');
  const table = checkIdentifier(options.table ?? 'myrmex_lock_fence', 'postgresLock options.table');
  return {
    async ensureSchema() {
      await pool.query(`CREATE TABLE IF NOT EXISTS ${table} (name TEXT PRIMARY KEY, token BIGINT NOT NULL)`);
    },
    async acquire(name, { waitMs = 0 } = {}): Promise<Lease | undefined> {
      checkLockName(name);
      const deadline = Date.now() + waitMs;
      const client: PoolClient = await pool.connect();
      // A dropped connection (the very way a holder loses the lock) must not crash the process.
      const ignore = () => undefined;
      client.on('error', ignore);
      try {
        for (let delay = 5; ; delay = Math.min(delay * 2, 200)) {
          const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [name]);
          if (rows[0]?.ok) break;
          if (Date.now() >= deadline) {
            client.off('error', ignore);
            client.release();
            return undefined;
          }
          await sleep(Math.min(delay, Math.max(1, deadline - Date.now())));
        }
        const { rows } = await client.query<{ token: string }>(
          `INSERT INTO ${table} (name, token) VALUES ($1, 1) ON CONFLICT (name) DO UPDATE SET token = ${table}.token + 1 RETURNING token`,
          [name],
        );
        let released = false;
        return {
          name,
          token: Number(rows[0]!.token),
          async release() {
            if (released) return;
            released = true;
            try {
              await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [name]);
              client.off('error', ignore);
              client.release();
            } catch (error) {
              client.release(true);
              throw error;
            }
          },
        };
      } catch (error) {
        client.release(true);
        throw error;
      }
    },
  };
}

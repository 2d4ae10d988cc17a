import type { Pool } from 'mysql2/promise';
import { findCycle, type WaitEdge } from './wait-for.js';

/** A little over InnoDB's 100 ms: a second read after this idle time sees a refilled lock cache (unless another session keeps reading it). */
const CACHE_IDLE_MS = 120;

const GET_LOCK = /GET_LOCK\s*\(\s*'((?:[^'\\]|\\.|'')*)'/i;

/**
 * Application-level deadlock detection on MariaDB: the wait-for graph over InnoDB row locks (lockRows, FOR UPDATE)
 * and named locks (GET_LOCK), by connection id, among the sessions of the pool's database. InnoDB breaks cycles of row locks itself, at once; a cycle that goes
 * through a named lock (one session holds a row and waits for GET_LOCK('a'), the other holds 'a' and waits for the
 * row) it cannot see: both would wait for innodb_lock_wait_timeout (50 s by default) and the GET_LOCK timeout. This
 * finds such cycles when asked and kills the statement of the lightest transaction (InnoDB's own rule: the fewest rows
 * changed and locked, `trx_weight`), the most recently started among equals. (`trx_started` has whole seconds only,
 * and a transaction that only read holds no real `trx_id`, so age alone cannot be told apart reliably.)
 *
 * InnoDB's information_schema lock tables are a cache that is refilled only once nobody has read it for 100 ms
 * (CACHE_MIN_IDLE_TIME in trx0i_s), so a reader polling faster than that keeps seeing the first picture. Row waits
 * are therefore kept only while the waiter is live in the processlist (which is not cached), and a cycle is read a
 * second time, after the cache could refill, before its victim is killed.
 *
 * A named-lock wait is read from the processlist (state "User lock", the lock named in the waiting GET_LOCK call) and
 * its holder from IS_USED_LOCK: name your locks with string literals in the GET_LOCK call for it to be seen.
 */
export class MariaDbWaitForGraph {
  constructor(private readonly pool: Pool) {
    if (pool === null || typeof pool !== 'object' || typeof pool.query !== 'function')
      throw new TypeError('MariaDbWaitForGraph(pool): expected a mysql2/promise Pool');
  }

  async edges(): Promise<WaitEdge<number>[]> {
    const [rowWaits] = await this.pool.query(
      `SELECT r.trx_mysql_thread_id AS waiter, b.trx_mysql_thread_id AS holder
       FROM information_schema.INNODB_LOCK_WAITS w
       JOIN information_schema.INNODB_TRX r ON r.trx_id = w.requesting_trx_id
       JOIN information_schema.INNODB_TRX b ON b.trx_id = w.blocking_trx_id
       JOIN information_schema.PROCESSLIST p ON p.id = r.trx_mysql_thread_id
       WHERE p.db = DATABASE() AND p.command = 'Query'`,
    );
    const edges = (rowWaits as { waiter: number | string; holder: number | string }[]).map((r) => ({
      waiter: Number(r.waiter),
      holder: Number(r.holder),
    }));
    const [named] = await this.pool.query(
      "SELECT id, info FROM information_schema.PROCESSLIST WHERE state = 'User lock' AND info IS NOT NULL AND db = DATABASE()",
    );
    for (const { id, info } of named as { id: number | string; info: string }[]) {
      const name = GET_LOCK.exec(info)?.[1]?.replaceAll("''", "'");
      if (name === undefined) continue;
      const [held] = await this.pool.query('SELECT IS_USED_LOCK(?) AS holder', [name]);
      const holder = (held as { holder: number | string | null }[])[0]?.holder;
      if (holder !== null && holder !== undefined && Number(holder) !== Number(id))
        edges.push({ waiter: Number(id), holder: Number(holder) });
    }
    return edges;
  }

  /** Finds a cycle and kills the statement of its lightest transaction; returns the cycle and the victim, or undefined. */
  async breakDeadlock(): Promise<{ cycle: number[]; victim: number } | undefined> {
    const cycle = findCycle(await this.edges());
    if (cycle === undefined) return undefined;
    await new Promise((resolve) => setTimeout(resolve, CACHE_IDLE_MS));
    const again = await this.edges();
    const still = cycle.every((node, i) => again.some((e) => e.waiter === node && e.holder === cycle[(i + 1) % cycle.length]));
    if (!still) return undefined;
    const [rows] = await this.pool.query(
      `SELECT trx_mysql_thread_id AS id FROM information_schema.INNODB_TRX WHERE trx_mysql_thread_id IN (?)
       ORDER BY trx_weight ASC, trx_started DESC LIMIT 1`,
      [cycle],
    );
    const victim = Number((rows as { id: number | string }[])[0]?.id ?? cycle.at(-1));
    await this.pool.query(`KILL QUERY ${Math.trunc(victim)}`);
    return { cycle, victim };
  }
}

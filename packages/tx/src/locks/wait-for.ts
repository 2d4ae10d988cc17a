import type { Pool } from 'pg';

/** `waiter` waits for a lock `holder` holds. */
export interface WaitEdge<Id = string | number> {
  readonly waiter: Id;
  readonly holder: Id;
}

/** One cycle of the graph (each waits for the next, the last for the first), or undefined. */
export function findCycle<Id>(edges: readonly WaitEdge<Id>[]): Id[] | undefined {
  const next = new Map<Id, Id[]>();
  for (const { waiter, holder } of edges) next.set(waiter, [...(next.get(waiter) ?? []), holder]);
  const state = new Map<Id, 'open' | 'done'>();
  const path: Id[] = [];
  const visit = (node: Id): Id[] | undefined => {
    state.set(node, 'open');
    path.push(node);
    for (const target of next.get(node) ?? []) {
      if (state.get(target) === 'open') return path.slice(path.indexOf(target));
      if (state.get(target) === undefined) {
        const found = visit(target);
        if (found) return found;
      }
    }
    path.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of next.keys()) {
    if (state.get(node) === undefined) {
      const found = visit(node);
      if (found) return found;
    }
  }
  return undefined;
}

/**
 * Application-level deadlock detection over PostgreSQL's lock waits (row locks from lockRows,
 * advisory locks...): the wait-for graph from pg_blocking_pids, a cycle, and a victim, the
 * transaction that started last (it has done the least work), cancelled. PostgreSQL finds
 * deadlocks itself after deadlock_timeout (1 s by default); this finds them when you ask, and lets
 * you choose the victim.
 */
export class WaitForGraph {
  constructor(private readonly pool: Pool) {
    if (pool === null || typeof pool !== 'object' || typeof pool.query !== 'function')
      throw new TypeError('WaitForGraph(pool): expected a pg Pool');
  }

  async edges(): Promise<WaitEdge<number>[]> {
    const { rows } = await this.pool.query<{ waiter: number; holder: number }>(
      `SELECT pid AS waiter, unnest(pg_blocking_pids(pid)) AS holder FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    return rows.map((r) => ({ waiter: Number(r.waiter), holder: Number(r.holder) }));
  }

  /** Finds a cycle and cancels its youngest transaction; returns the cycle and the victim, or undefined. */
  async breakDeadlock(): Promise<{ cycle: number[]; victim: number } | undefined> {
    const cycle = findCycle(await this.edges());
    if (cycle === undefined) return undefined;
    const { rows } = await this.pool.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE pid = ANY($1::int[]) ORDER BY xact_start DESC NULLS LAST, pid DESC LIMIT 1',
      [cycle],
    );
    const victim = Number(rows[0]?.pid ?? cycle[0]);
    await this.pool.query('SELECT pg_cancel_backend($1)', [victim]);
    return { cycle, victim };
  }
}

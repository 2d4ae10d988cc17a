import { freshAll, postgres, redis } from '@myrmex/test-utils';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pgDriver, TransactionManager } from '../../src/index.js';
import {
  type DistributedLock,
  fencedUpdate,
  findCycle,
  postgresLock,
  redisLock,
  StaleTokenError,
  WaitForGraph,
} from '../../src/locks/index.js';

const pgGate = await postgres();
const redisGate = await redis();

pgGate.describe('fenced locks', () => {
  const db = freshAll(() => pgGate.freshDatabase());
  const prefix = freshAll(async () =>
    redisGate.availability.available ? redisGate.freshPrefix() : { url: '', prefix: '', dispose: async () => undefined },
  );
  let pool: pg.Pool;
  let tm: TransactionManager<unknown, unknown>;
  let client: Redis | undefined;
  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: db.current.url, max: 8 });
    pool.on('error', () => undefined);
    tm = new TransactionManager(pgDriver(pool)) as TransactionManager<unknown, unknown>;
    await postgresLock(pool).ensureSchema();
    if (redisGate.availability.available) client = new Redis(prefix.current.url);
  });
  afterAll(async () => {
    client?.disconnect();
    await tm.close();
  });
  beforeEach(async () => {
    await tm.execute('DROP TABLE IF EXISTS stock');
    await tm.execute('CREATE TABLE stock (id INT PRIMARY KEY, qty INT NOT NULL, fence_token BIGINT)');
    await tm.execute('INSERT INTO stock VALUES (1, 10, NULL)');
  });
  const qty = async () => Number((await tm.execute<{ qty: number }>('SELECT qty FROM stock WHERE id = 1')).rows[0]?.qty);

  /** A holds the lock, pauses past it (`lose`), B takes it and writes; A's late write is refused. */
  async function pausedHolder(lock: DistributedLock, lose: () => Promise<void>) {
    const a = await lock.acquire('stock-1');
    expect(a).toBeDefined();
    expect(await lock.acquire('stock-1')).toBeUndefined();
    await lose();
    const b = await lock.acquire('stock-1', { waitMs: 10_000 });
    expect(b!.token).toBeGreaterThan(a!.token);
    await fencedUpdate(tm, { table: 'stock', id: 1, token: b!.token, set: { qty: 7 } });
    await fencedUpdate(tm, { table: 'stock', id: 1, token: b!.token, set: { qty: 6 } }); // same holder writes again
    // A wakes up, believes it still holds the lock, and writes with its old token.
    await expect(fencedUpdate(tm, { table: 'stock', id: 1, token: a!.token, set: { qty: 0 } })).rejects.toBeInstanceOf(StaleTokenError);
    expect(await qty()).toBe(6);
    await b!.release();
    await a!.release().catch(() => undefined);
  }

  it('PostgreSQL advisory lock: a holder whose session died writes too late and is refused by its token', async () => {
    const lock = postgresLock(pool);
    await pausedHolder(lock, async () => {
      // The holder's connection is cut (a partition, an idle timeout): PostgreSQL frees its advisory lock.
      await pool.query(
        "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND pid <> pg_backend_pid() AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
      );
    });
  });

  it('Redis lock: a holder paused past its TTL writes too late and is refused by its token', async (context) => {
    if (client === undefined) return context.skip();
    const lock = redisLock(client, { prefix: prefix.current.prefix, ttlMs: 200 });
    // Losing it takes nothing but time: B's acquire waits until the TTL frees it.
    await pausedHolder(lock, async () => undefined);
  });

  it('wait-for graph: a deadlock over advisory locks is found and its youngest transaction cancelled before PostgreSQL would', async () => {
    const [c1, c2] = [await pool.connect(), await pool.connect()];
    try {
      for (const c of [c1, c2]) await c.query("BEGIN; SET LOCAL deadlock_timeout = '60s'");
      await c1.query('SELECT pg_advisory_xact_lock(1)');
      await c2.query('SELECT pg_advisory_xact_lock(2)');
      const first = c1.query('SELECT pg_advisory_xact_lock(2)').then(
        () => 'ok',
        (e: { code?: string }) => e.code,
      );
      const second = c2.query('SELECT pg_advisory_xact_lock(1)').then(
        () => 'ok',
        (e: { code?: string }) => e.code,
      );
      const graph = new WaitForGraph(pool);
      // Both waits take a moment to register: poll the graph until the cycle shows.
      let broken = await graph.breakDeadlock();
      while (broken === undefined) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        broken = await graph.breakDeadlock();
      }
      expect(broken.cycle).toHaveLength(2);
      // c2 began last: it is the victim (57014, query_canceled), and c1 then gets its lock.
      expect(await second).toBe('57014');
      expect(await first).toBe('ok');
    } finally {
      for (const c of [c1, c2]) {
        await c.query('ROLLBACK').catch(() => undefined);
        c.release();
      }
    }
  });
});

describe('findCycle', () => {
  it('finds a cycle exactly when the graph has one (checked against a transitive closure)', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ waiter: fc.nat(6), holder: fc.nat(6) }), { maxLength: 12 }), (edges) => {
        const reach = new Map<number, Set<number>>();
        for (let i = 0; i <= 6; i++) reach.set(i, new Set());
        for (const e of edges) reach.get(e.waiter)!.add(e.holder);
        for (let k = 0; k <= 6; k++)
          for (let i = 0; i <= 6; i++) if (reach.get(i)!.has(k)) for (const j of reach.get(k)!) reach.get(i)!.add(j);
        const cyclic = [...reach.entries()].some(([i, to]) => to.has(i));
        const cycle = findCycle(edges);
        expect(cycle !== undefined).toBe(cyclic);
        if (cycle) {
          // Each member waits for the next, the last for the first.
          cycle.forEach((node, i) => {
            const target = cycle[(i + 1) % cycle.length];
            expect(edges.some((e) => e.waiter === node && e.holder === target)).toBe(true);
          });
        }
      }),
    );
  });
});

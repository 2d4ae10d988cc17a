import { freshAll } from '@myrmex/test-utils';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import {
  IllegalTransactionStateError,
  lockRows,
  OptimisticLockError,
  RetriesExhaustedError,
  UnexpectedRollbackError,
  updateWithVersion,
} from '../src/index.js';
import { type AnyManager, type Opened, openManager, scalar, serverTargets, targets } from './support/databases.js';

/** Resolves once `parties` callers arrived; later callers (retries) pass straight through. */
function barrier(parties: number): () => Promise<void> {
  let arrived = 0;
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return () => {
    arrived += 1;
    if (arrived === parties) open();
    return arrived > parties ? Promise.resolve() : opened;
  };
}

async function setup(tm: AnyManager): Promise<void> {
  await tm.execute('DROP TABLE IF EXISTS rows_t');
  await tm.execute('CREATE TABLE rows_t (id INT PRIMARY KEY, value INT NOT NULL, version INT NOT NULL)');
  await tm.execute('INSERT INTO rows_t (id, value, version) VALUES (1, 10, 0), (2, 20, 0), (3, 30, 0)');
}

for (const target of serverTargets) {
  const { kind } = target;
  target.describe(`deadlocks and row locks on ${kind}`, () => {
    const db = freshAll(target.fresh);
    let opened: Opened;
    let tm: AnyManager;
    beforeAll(() => {
      opened = openManager(kind, db.current.url, { max: 4 });
      tm = opened.tm;
    });
    afterAll(() => opened.close());
    beforeEach(() => setup(tm));
    const bump = (id: number) => tm.execute(`UPDATE rows_t SET value = value + 1 WHERE id = ${id}`);

    it('two transactions locking in opposite order deadlock; the manager retries the victim and both succeed', async () => {
      const bothHoldOne = barrier(2);
      const attempts = { a: 0, b: 0 };
      const work = (first: number, second: number, key: 'a' | 'b') =>
        tm.run(
          async () => {
            attempts[key] += 1;
            await bump(first);
            await bothHoldOne();
            await bump(second);
          },
          { retry: { attempts: 3, baseDelayMs: 5 } },
        );
      await Promise.all([work(1, 2, 'a'), work(2, 1, 'b')]);
      expect(tm.metrics().retries.deadlock).toBe(1);
      expect(attempts.a + attempts.b).toBe(3);
      expect(await scalar(tm, 'SELECT value FROM rows_t WHERE id = 1')).toBe(12);
      expect(await scalar(tm, 'SELECT value FROM rows_t WHERE id = 2')).toBe(22);
    });

    it('a deadlock the code catches inside the transaction is reported as a rollback, not a commit', async () => {
      // The database rolled the victim back (PostgreSQL aborts it, InnoDB ends it), so its COMMIT commits nothing.
      const bothHoldOne = barrier(2);
      const committed: string[] = [];
      const side = (first: number, second: number, tag: string) =>
        tm.run(async () => {
          tm.synchronize({ afterCommit: () => void committed.push(tag) });
          await bump(first);
          await bothHoldOne();
          await bump(second).catch(() => undefined);
        });
      const results = await Promise.allSettled([side(1, 2, 'a'), side(2, 1, 'b')]);
      const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(rejected).toHaveLength(1);
      expect(rejected[0]?.reason).toBeInstanceOf(UnexpectedRollbackError);
      expect(committed).toHaveLength(1);
      expect(await scalar(tm, 'SELECT sum(value) FROM rows_t WHERE id IN (1, 2)')).toBe(32);
    });

    it('lockRows locks in id order whatever order it is given, so the same pair cannot deadlock', async () => {
      const before = tm.metrics().retries.deadlock ?? 0;
      const bothStarted = barrier(2);
      const work = (ids: number[]) =>
        tm.run(async () => {
          await bothStarted();
          const rows = await lockRows<{ id: number }>(tm, 'rows_t', ids);
          expect(rows.map((r) => Number(r.id))).toEqual([1, 2]);
          for (const id of new Set(ids)) await bump(id);
        });
      await Promise.all([work([1, 2]), work([2, 1, 2])]);
      expect(tm.metrics().retries.deadlock ?? 0).toBe(before);
      expect(await scalar(tm, 'SELECT value FROM rows_t WHERE id = 2')).toBe(22);
    });

    it('lockRows nowait fails at once on a held row; skipLocked returns only the free rows', async () => {
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let locked!: () => void;
      const lockTaken = new Promise<void>((resolve) => (locked = resolve));
      const holder = tm.run(async () => {
        await lockRows(tm, 'rows_t', [2]);
        locked();
        await held;
      });
      await lockTaken;
      const started = performance.now();
      const error = await tm.run(() => lockRows(tm, 'rows_t', [1, 2], { nowait: true })).catch((e: unknown) => e);
      expect(performance.now() - started).toBeLessThan(1000);
      const e = error as { code?: string; errno?: number };
      expect(kind === 'postgres' ? e.code : e.errno).toBe(kind === 'postgres' ? '55P03' : 1205);
      const free = await tm.run(() => lockRows<{ id: number }>(tm, 'rows_t', [3, 2, 1], { skipLocked: true }));
      expect(free.map((r) => Number(r.id))).toEqual([1, 3]);
      release();
      await holder;
    });

    it('retry retries a NOWAIT failure until the row is free (PostgreSQL: when lockNotAvailable asks; MariaDB: 1205)', async () => {
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let locked!: () => void;
      const lockTaken = new Promise<void>((resolve) => (locked = resolve));
      const holder = tm.run(async () => {
        await lockRows(tm, 'rows_t', [1]);
        locked();
        await held;
      });
      await lockTaken;
      let attempts = 0;
      const rows = await tm.run(
        async () => {
          attempts += 1;
          // Written before the failing statement: InnoDB's 1205 undoes only that statement, so the manager must roll back the rest.
          await bump(3);
          try {
            return await lockRows(tm, 'rows_t', [1], { nowait: true });
          } catch (error) {
            // The holder lets go only once a first try has failed, so at least one retry is certain.
            if (attempts === 1) release();
            throw error;
          }
        },
        { retry: { attempts: 20, baseDelayMs: 10, lockNotAvailable: true } },
      );
      expect(rows).toHaveLength(1);
      expect(attempts).toBeGreaterThan(1);
      expect(await scalar(tm, 'SELECT value FROM rows_t WHERE id = 3')).toBe(31);
      expect(tm.metrics().retries[kind === 'postgres' ? 'lock-not-available' : 'lock-timeout']).toBeGreaterThan(0);
      await holder;
    });
  });
}

for (const target of targets) {
  const { kind } = target;
  target.describe(`optimistic locking on ${kind}`, () => {
    const db = freshAll(target.fresh);
    let opened: Opened;
    let tm: AnyManager;
    beforeAll(() => {
      opened = openManager(kind, db.current.url, { max: 4 });
      tm = opened.tm;
    });
    afterAll(() => opened.close());
    beforeEach(() => setup(tm));

    it('updateWithVersion bumps the version, and a stale version gets OptimisticLockError', async () => {
      expect(await tm.run(() => updateWithVersion(tm, { table: 'rows_t', id: 1, version: 0, set: { value: 11 } }))).toBe(1);
      const error = await tm
        .run(() => updateWithVersion(tm, { table: 'rows_t', id: 1, version: 0, set: { value: 99 } }))
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OptimisticLockError);
      expect(await scalar(tm, 'SELECT value FROM rows_t WHERE id = 1')).toBe(11);
      await expect(
        tm.run(() => updateWithVersion(tm, { table: 'rows_t', id: 1, version: 0, set: { value: 99 } }), {
          retry: { attempts: 2, baseDelayMs: 1 },
        }),
      ).rejects.toBeInstanceOf(RetriesExhaustedError);
    });

    it('read-modify-write with updateWithVersion and retry loses no increment under concurrency', async () => {
      const increment = () =>
        tm.run(
          async () => {
            const { rows } = await tm.execute<{ value: number; version: number }>('SELECT value, version FROM rows_t WHERE id = 3');
            const row = rows[0]!;
            await updateWithVersion(tm, { table: 'rows_t', id: 3, version: Number(row.version), set: { value: Number(row.value) + 1 } });
          },
          { retry: { attempts: 100, baseDelayMs: 1, maxDelayMs: 20 } },
        );
      await Promise.all(Array.from({ length: 12 }, increment));
      expect(await scalar(tm, 'SELECT value FROM rows_t WHERE id = 3')).toBe(42);
    });

    it('helpers validate their input and lockRows needs a read-write transaction', async () => {
      await expect(tm.run(() => lockRows(tm, 'rows_t; DROP TABLE x', [1]))).rejects.toThrow(/lockRows table/);
      await expect(lockRows(tm, 'rows_t', [1])).rejects.toBeInstanceOf(IllegalTransactionStateError);
      await expect(tm.run(() => lockRows(tm, 'rows_t', [1]), { readOnly: true })).rejects.toThrow(/read-write/);
      await expect(tm.run(() => lockRows(tm, 'rows_t', [1], { nowait: true, skipLocked: true }))).rejects.toThrow(/exclude/);
      await expect(tm.run(() => updateWithVersion(tm, { table: 'rows_t', id: 1, version: 0, set: { version: 5 } }))).rejects.toThrow(
        /set.version/,
      );
      expect(await tm.run(() => lockRows(tm, 'rows_t', []))).toEqual([]);
    });
  });
}

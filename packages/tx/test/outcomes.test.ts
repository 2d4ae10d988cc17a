import { freshAll } from '@myrmex/test-utils';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { IllegalTransactionStateError, OptimisticLockError, TransactionError, UnexpectedRollbackError } from '../src/index.js';
import { type AnyManager, type Opened, openManager, targets } from './support/databases.js';

/** What the caller is told must be what the database did, and a retry must never repeat committed work. */
for (const target of targets) {
  const { kind } = target;
  target.describe(`reported outcome matches the database on ${kind}`, () => {
    const db = freshAll(target.fresh);
    let opened: Opened;
    let tm: AnyManager;
    beforeAll(() => {
      opened = openManager(kind, db.current.url, { max: 3 });
      tm = opened.tm;
    });
    afterAll(() => opened.close());
    beforeEach(async () => {
      await tm.execute('DROP TABLE IF EXISTS items');
      await tm.execute('CREATE TABLE items (id INT PRIMARY KEY)');
    });
    const insert = (id: number) => tm.execute(`INSERT INTO items (id) VALUES (${id})`);
    const ids = async () => (await tm.execute<{ id: number }>('SELECT id FROM items ORDER BY id')).rows.map((r) => Number(r.id));

    it('a statement error swallowed inside the transaction: PostgreSQL rolls back at COMMIT and the caller is told so', async () => {
      const log: string[] = [];
      const before = tm.metrics();
      const outcome = await tm
        .run(async () => {
          tm.synchronize({
            afterCommit: () => void log.push('afterCommit'),
            afterRollback: () => void log.push('afterRollback'),
            afterCompletion: (status) => void log.push(status),
          });
          await insert(1);
          await insert(1).catch(() => undefined);
          return 'done';
        })
        .catch((e: unknown) => e);
      const after = tm.metrics();
      if (kind === 'postgres') {
        // The duplicate aborted the transaction; PostgreSQL answers COMMIT with ROLLBACK and no error.
        expect(outcome).toBeInstanceOf(UnexpectedRollbackError);
        expect(await ids()).toEqual([]);
        expect(log).toEqual(['afterRollback', 'ROLLED_BACK']);
        expect(after.commits - before.commits).toBe(0);
        expect(after.unexpectedRollbacks - before.unexpectedRollbacks).toBe(1);
      } else {
        // MariaDB and SQLite undo only the failed statement; the rest commits.
        expect(outcome).toBe('done');
        expect(await ids()).toEqual([1]);
        expect(log).toEqual(['afterCommit', 'COMMITTED']);
      }
    });

    it('a retryable failure rolls its attempt back before the retry, even when noRollbackOn matches it', async () => {
      let attempt = 0;
      await tm.run(
        async () => {
          attempt += 1;
          await insert(attempt);
          if (attempt === 1) throw new OptimisticLockError('items', 1, 0);
        },
        { retry: { attempts: 3, baseDelayMs: 0 }, noRollbackOn: [TransactionError] },
      );
      expect(attempt).toBe(2);
      expect(await ids()).toEqual([2]);
    });

    it('an afterCommit error that looks retryable is not retried: the work is already committed', async () => {
      let attempt = 0;
      const before = tm.metrics();
      const error = await tm
        .run(
          async () => {
            attempt += 1;
            await insert(attempt);
            tm.synchronize({
              afterCommit: () => {
                throw new OptimisticLockError('elsewhere', 7, 3);
              },
            });
          },
          { retry: { attempts: 3, baseDelayMs: 0 } },
        )
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OptimisticLockError);
      expect(attempt).toBe(1);
      expect(await ids()).toEqual([1]);
      expect(tm.metrics().retries).toEqual(before.retries);
    });

    it('code that outlives its transaction cannot reach the connection, which is back in the pool', async () => {
      let late!: Promise<unknown>;
      let endRun!: () => void;
      const runEnded = new Promise<void>((resolve) => (endRun = resolve));
      await tm.run(async () => {
        await insert(1);
        // Not awaited: it still carries the transaction's context when it runs, after the run is over.
        late = runEnded.then(() => {
          expect(tm.inTransaction()).toBe(false);
          return insert(2);
        });
      });
      endRun();
      const error = await late.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(IllegalTransactionStateError);
      expect((error as Error).message).toMatch(/already ended/);
      expect(await ids()).toEqual([1]);
      // Hooks registered after a scope without a transaction has completed its own would never run.
      let lateHook!: Promise<unknown>;
      let endScope!: () => void;
      const scopeEnded = new Promise<void>((resolve) => (endScope = resolve));
      await tm.run(
        () => {
          lateHook = scopeEnded.then(() => tm.synchronize({ afterCommit: () => undefined }));
        },
        { propagation: 'SUPPORTS' },
      );
      endScope();
      expect(await lateHook.catch((e: unknown) => e)).toBeInstanceOf(IllegalTransactionStateError);
    });
  });
}

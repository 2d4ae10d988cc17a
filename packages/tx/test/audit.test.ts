import { freshAll } from '@myrmex/test-utils';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { TransactionOptionsConflictError, TransactionTimeoutError, UnexpectedRollbackError } from '../src/index.js';
import { type AnyManager, type Opened, openManager, targets } from './support/databases.js';

class Harmless extends Error {}

// Each case here failed before the fix it names (issue 15, "what the audit found").
for (const target of targets) {
  const { kind } = target;
  target.describe(`audit fixes on ${kind}`, () => {
    const db = freshAll(target.fresh);
    let opened: Opened;
    let tm: AnyManager;
    const debug: Array<[string, unknown]> = [];
    beforeAll(() => {
      opened = openManager(kind, db.current.url, {
        max: 3,
        manager: { logger: { warn: () => undefined, debug: (message, details) => void debug.push([message, details]) } },
      });
      tm = opened.tm;
    });
    afterAll(() => opened.close());
    beforeEach(async () => {
      debug.length = 0;
      await tm.execute('DROP TABLE IF EXISTS items');
      await tm.execute('CREATE TABLE items (id INT PRIMARY KEY)');
    });
    const insert = (id: number) => tm.execute(`INSERT INTO items (id) VALUES (${id})`);
    const ids = async () => (await tm.execute<{ id: number }>('SELECT id FROM items ORDER BY id')).rows.map((r) => Number(r.id));

    it('NESTED: a joined child that dooms, inside a scope that returns normally, rolls back to the savepoint and throws there; the outer commits', async () => {
      let caught: unknown;
      await tm.run(async () => {
        await insert(1);
        caught = await tm
          .run(
            async () => {
              await insert(2);
              await tm.run(() => Promise.reject(new Error('joined child fails'))).catch(() => undefined);
              return 'returned normally';
            },
            { propagation: 'NESTED' },
          )
          .catch((e: unknown) => e);
        expect(tm.current()?.rollbackOnly).toBe(false);
        await insert(3);
      });
      expect(caught).toBeInstanceOf(UnexpectedRollbackError);
      expect((caught as Error).cause).toBeInstanceOf(Error);
      expect(await ids()).toEqual([1, 3]);
    });

    it('retry on a scope that joins (or nests) is ignored, with a debug log naming the scope', async () => {
      const value = await tm.run(async () => {
        await tm.run(() => insert(1), { retry: 3, name: 'composable' });
        return tm.run(() => 'nested ran', { retry: 2, propagation: 'NESTED' });
      });
      expect(value).toBe('nested ran');
      expect(await ids()).toEqual([1]);
      expect(debug.filter(([m]) => m.includes('retry')).length).toBe(2);
      expect(JSON.stringify(debug[0])).toContain('composable');
    });

    it("joined scopes' conflicting options are ignored by default, as Spring's validateExistingTransaction=false; strict mode rejects", async () => {
      expect(await tm.run(() => tm.run(() => 'joined', { isolation: 'READ_COMMITTED' }))).toBe('joined');
      expect(await tm.run(() => tm.run(() => 'joined', { readOnly: false }), { readOnly: true })).toBe('joined');
      const strict = openManager(kind, db.current.url, { max: 2, manager: { onConflict: 'reject' } });
      try {
        await expect(strict.tm.run(() => strict.tm.run(() => 1, { isolation: 'SERIALIZABLE' }))).rejects.toBeInstanceOf(
          TransactionOptionsConflictError,
        );
      } finally {
        await strict.close();
      }
    });

    it('timeoutMs covers waiting for a pool connection; close() settles every waiter', async () => {
      const warned: string[] = [];
      const small = openManager(kind, db.current.url, { max: 1, manager: { logger: { warn: (m) => void warned.push(m) } } });
      let release!: () => void;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let entered!: () => void;
      const inside = new Promise<void>((resolve) => {
        entered = resolve;
      });
      const holder = small.tm.run(
        async () => {
          entered();
          await held;
        },
        { readOnly: true },
      );
      await inside;
      await expect(small.tm.run(() => 'never', { timeoutMs: 150, readOnly: true })).rejects.toBeInstanceOf(TransactionTimeoutError);
      // More transactions than connections: the pool-sizing mismatch the article warns about.
      expect(warned).toEqual([expect.stringMatching(/2 transactions want a connection and the pool has 1/)]);
      const waiter = small.tm.run(() => 'never either', { readOnly: true }).catch((e: unknown) => e);
      const closing = small.tm.close();
      expect(String(await waiter)).toMatch(/closed/);
      release();
      await holder;
      await closing;
    });

    if (kind === 'postgres') {
      it('noRollbackOn after a statement PostgreSQL aborted: UnexpectedRollbackError keeps the application error as cause', async () => {
        const appError = new Harmless('the application error');
        const error = await tm
          .run(
            async () => {
              await insert(1);
              await insert(1).catch(() => undefined);
              throw appError;
            },
            { noRollbackOn: [Harmless] },
          )
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(UnexpectedRollbackError);
        expect((error as Error).cause).toBe(appError);
        expect(await ids()).toEqual([]);
      });

      it('NESTED with noRollbackOn after an aborted statement: the application error stays the cause, not the RELEASE SAVEPOINT failure', async () => {
        const appError = new Harmless('nested application error');
        let caught: unknown;
        await tm.run(async () => {
          await insert(1);
          caught = await tm
            .run(
              async () => {
                await insert(1).catch(() => undefined);
                throw appError;
              },
              { propagation: 'NESTED', noRollbackOn: [Harmless] },
            )
            .catch((e: unknown) => e);
          // The savepoint was rolled back, so the outer transaction is usable again.
          await insert(2);
        });
        expect(caught).toBeInstanceOf(UnexpectedRollbackError);
        expect((caught as Error).cause).toBe(appError);
        expect(await ids()).toEqual([1, 2]);
      });
    }
  });
}

import { setTimeout as sleep } from 'node:timers/promises';
import { freshAll } from '@myrmex/test-utils';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, beforeEach, expect, it, vi } from 'vitest';
import {
  IllegalTransactionStateError,
  OptimisticLockError,
  PoolExhaustedError,
  RetriesExhaustedError,
  TransactionOptionsConflictError,
  TransactionTimeoutError,
  UnexpectedRollbackError,
} from '../src/index.js';
import { type AnyManager, isReadOnlyViolation, type Opened, openManager, scalar, sleepSql, targets } from './support/databases.js';

class BusinessError extends Error {}
class Harmless extends Error {}

for (const target of targets) {
  const { kind } = target;
  target.describe(`propagation and options on ${kind}`, () => {
    const db = freshAll(target.fresh);
    let opened: Opened;
    let tm: AnyManager;
    const warnings: Array<[string, unknown]> = [];
    beforeAll(() => {
      opened = openManager(kind, db.current.url, {
        max: 3,
        manager: { leakWarningMs: 400, logger: { warn: (message, details) => warnings.push([message, details]) } },
      });
      tm = opened.tm;
    });
    afterAll(() => opened.close());
    beforeEach(async () => {
      warnings.length = 0;
      await tm.execute('DROP TABLE IF EXISTS items');
      await tm.execute('CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(40))');
    });
    const insert = (id: number, name = 'x') => tm.execute(`INSERT INTO items (id, name) VALUES (${id}, '${name}')`);
    const ids = async () => (await tm.execute<{ id: number }>('SELECT id FROM items ORDER BY id')).rows.map((r) => Number(r.id));

    it('REQUIRED commits on success and rolls back on error; db() is the connection inside, the pool outside', async () => {
      const pool = tm.db();
      const inside = await tm.run(async () => {
        await insert(1);
        return tm.db();
      });
      expect(inside).not.toBe(pool);
      await expect(
        tm.run(async () => {
          await insert(2);
          throw new BusinessError('no');
        }),
      ).rejects.toBeInstanceOf(BusinessError);
      expect(await ids()).toEqual([1]);
      expect(tm.db()).toBe(pool);
    });

    it('REQUIRED inside REQUIRED joins: same connection, and a failed inner scope makes the outer commit throw UnexpectedRollbackError', async () => {
      const error = await tm
        .run(async () => {
          await insert(1);
          const outer = tm.db();
          await tm
            .run(async () => {
              expect(tm.db()).toBe(outer);
              expect(tm.current()?.scope).toBe('joined');
              await insert(2);
              throw new BusinessError('inner');
            })
            .catch(() => undefined);
          expect(tm.current()?.rollbackOnly).toBe(true);
          return 'outer finished';
        })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnexpectedRollbackError);
      expect((error as Error).cause).toBeInstanceOf(BusinessError);
      expect(await ids()).toEqual([]);
      expect(tm.metrics().unexpectedRollbacks).toBeGreaterThan(0);
    });

    it('an inner error listed in noRollbackOn does not doom the joined transaction', async () => {
      await tm.run(async () => {
        await insert(1);
        await tm
          .run(
            async () => {
              throw new Harmless('fine');
            },
            { noRollbackOn: [Harmless] },
          )
          .catch(() => undefined);
      });
      expect(await ids()).toEqual([1]);
    });

    it('setRollbackOnly wins over a noRollbackOn error: the joined scope still dooms, the nested one still rolls back', async () => {
      const markThenThrow = (id: number) => async () => {
        await insert(id);
        tm.setRollbackOnly();
        throw new Harmless('marked, then failed harmlessly');
      };
      const error = await tm
        .run(async () => {
          await insert(1);
          await tm.run(markThenThrow(2), { noRollbackOn: [Harmless] }).catch(() => undefined);
        })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnexpectedRollbackError);
      expect(await ids()).toEqual([]);
      await tm.run(async () => {
        await insert(3);
        await tm.run(markThenThrow(4), { propagation: 'NESTED', noRollbackOn: [Harmless] }).catch(() => undefined);
      });
      expect(await ids()).toEqual([3]);
    });

    it('setRollbackOnly on the outermost scope rolls back quietly and returns the value', async () => {
      const value = await tm.run(async () => {
        await insert(1);
        tm.setRollbackOnly();
        return 42;
      });
      expect(value).toBe(42);
      expect(await ids()).toEqual([]);
    });

    it('noRollbackOn commits and still rethrows; rollbackOn wins over noRollbackOn; predicates work', async () => {
      await expect(
        tm.run(
          async () => {
            await insert(1);
            throw new Harmless('keep my work');
          },
          { noRollbackOn: [Harmless] },
        ),
      ).rejects.toBeInstanceOf(Harmless);
      await expect(
        tm.run(
          async () => {
            await insert(2);
            throw new Harmless('both lists');
          },
          { noRollbackOn: [Harmless], rollbackOn: [(e) => (e as Error).message === 'both lists'] },
        ),
      ).rejects.toBeInstanceOf(Harmless);
      expect(await ids()).toEqual([1]);
    });

    it('NESTED rolls back to its savepoint on error and the outer transaction commits the rest', async () => {
      await tm.run(async () => {
        await insert(1);
        await tm
          .run(
            async () => {
              expect(tm.current()?.scope).toBe('nested');
              await insert(2);
              throw new BusinessError('nested fails');
            },
            { propagation: 'NESTED' },
          )
          .catch(() => undefined);
        await tm.run(() => insert(3), { propagation: 'NESTED' });
        await tm.run(
          async () => {
            await insert(4);
            tm.setRollbackOnly();
          },
          { propagation: 'NESTED' },
        );
      });
      expect(await ids()).toEqual([1, 3]);
      expect(tm.metrics().savepointRollbacks).toBeGreaterThanOrEqual(2);
    });

    it('a REQUIRED scope failing inside NESTED is undone with the savepoint and does not doom the outer transaction', async () => {
      await tm.run(async () => {
        await insert(1);
        await tm
          .run(
            () =>
              tm.run(async () => {
                await insert(2);
                throw new BusinessError('joined the savepoint, then failed');
              }),
            { propagation: 'NESTED' },
          )
          .catch(() => undefined);
        expect(tm.current()?.rollbackOnly).toBe(false);
      });
      expect(await ids()).toEqual([1]);
      // A transaction doomed before the savepoint stays doomed after rolling back to it.
      const error = await tm
        .run(async () => {
          await tm.run(() => Promise.reject(new BusinessError('dooms'))).catch(() => undefined);
          await tm.run(() => Promise.reject(new BusinessError('nested')), { propagation: 'NESTED' }).catch(() => undefined);
        })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnexpectedRollbackError);
    });

    it('NESTED without a running transaction begins one', async () => {
      await tm.run(
        async () => {
          expect(tm.current()?.scope).toBe('new');
          await insert(1);
        },
        { propagation: 'NESTED' },
      );
      expect(await ids()).toEqual([1]);
    });

    it('SUPPORTS runs without a transaction when there is none and joins one when there is', async () => {
      const pool = tm.db();
      await tm.run(() => expect(tm.db()).toBe(pool), { propagation: 'SUPPORTS' });
      await tm.run(async () => {
        const outer = tm.db();
        await tm.run(() => expect(tm.db()).toBe(outer), { propagation: 'SUPPORTS' });
      });
    });

    it('MANDATORY needs a transaction and NEVER refuses one', async () => {
      await expect(tm.run(() => 1, { propagation: 'MANDATORY' })).rejects.toBeInstanceOf(IllegalTransactionStateError);
      expect(await tm.run(() => tm.run(() => 2, { propagation: 'MANDATORY' }))).toBe(2);
      expect(await tm.run(() => 3, { propagation: 'NEVER' })).toBe(3);
      await expect(tm.run(() => tm.run(() => 4, { propagation: 'NEVER' }))).rejects.toBeInstanceOf(IllegalTransactionStateError);
    });

    it('NOT_SUPPORTED suspends the transaction: db() is the pool inside it', async () => {
      await tm.run(async () => {
        const outer = tm.db();
        await tm.run(
          async () => {
            expect(tm.inTransaction()).toBe(false);
            expect(tm.db()).toBe(tm.driver.pool);
          },
          { propagation: 'NOT_SUPPORTED' },
        );
        expect(tm.db()).toBe(outer);
      });
    });

    it('options of a joined scope that conflict are rejected in strict mode, or only warned about when configured', async () => {
      const strict = openManager(kind, db.current.url, { max: 2, manager: { onConflict: 'reject' } });
      try {
        const stm = strict.tm;
        await expect(
          stm.run(() => stm.run(() => 1, { isolation: 'SERIALIZABLE' }), { isolation: 'READ_COMMITTED' }),
        ).rejects.toBeInstanceOf(TransactionOptionsConflictError);
        await expect(stm.run(() => stm.run(() => 1), { readOnly: true })).rejects.toBeInstanceOf(TransactionOptionsConflictError);
        expect(await stm.run(() => stm.run(() => 1, { readOnly: true }), { readOnly: true })).toBe(1);
      } finally {
        await strict.close();
      }
      const lenient = openManager(kind, db.current.url, {
        max: 2,
        manager: { onConflict: 'warn', logger: { warn: (m, d) => warnings.push([m, d]) } },
      });
      try {
        expect(await lenient.tm.run(() => lenient.tm.run(() => 'joined anyway', { isolation: 'SERIALIZABLE' }))).toBe('joined anyway');
        expect(warnings.some(([m]) => m.includes('conflicts'))).toBe(true);
      } finally {
        await lenient.close();
      }
    });

    it('isolation, readOnly and timeoutMs are what the database runs with, and the pooled connection keeps none of them', async () => {
      // One connection, so the transaction after the configured one reuses it.
      const single = openManager(kind, db.current.url, { max: 1 });
      const t = single.tm;
      const settings = async (): Promise<string[]> => {
        if (kind === 'postgres') {
          const { rows } = await t.execute<Record<string, string>>(
            "SELECT current_setting('transaction_isolation') AS i, current_setting('transaction_read_only') AS r, current_setting('statement_timeout') AS t",
          );
          return [rows[0]!.i!, rows[0]!.r!, rows[0]!.t!];
        }
        if (kind === 'mariadb') {
          await t.execute('SELECT count(*) FROM items'); // InnoDB lists a transaction once it has read
          await sleep(150); // and refreshes INNODB_TRX only when nobody read it for 100 ms
          const { rows } = await t.execute<Record<string, unknown>>(
            'SELECT trx_isolation_level AS i, trx_is_read_only AS r, @@max_statement_time AS t FROM information_schema.innodb_trx WHERE trx_mysql_thread_id = CONNECTION_ID()',
          );
          return [String(rows[0]?.i), String(rows[0]?.r), String(Number(rows[0]?.t))];
        }
        const { rows } = await t.execute<{ query_only: number }>('PRAGMA query_only');
        return [String(rows[0]?.query_only)];
      };
      try {
        const configured = await t.run(settings, { isolation: 'SERIALIZABLE', readOnly: true, timeoutMs: 1500 });
        const plain = await t.run(settings);
        const uncommitted = await t.run(settings, { isolation: 'READ_UNCOMMITTED' });
        if (kind === 'postgres') {
          expect(configured).toEqual(['serializable', 'on', '1500ms']);
          expect(plain).toEqual(['read committed', 'off', '0']);
          // PostgreSQL accepts the name and runs it as READ COMMITTED (Hermitage's row shows the same behaviour).
          expect(uncommitted[0]).toBe('read uncommitted');
        } else if (kind === 'mariadb') {
          expect(configured).toEqual(['SERIALIZABLE', '1', '1.5']);
          expect(plain).toEqual(['REPEATABLE READ', '0', '0']);
          expect(uncommitted[0]).toBe('READ UNCOMMITTED');
        } else {
          expect(configured).toEqual(['1']);
          expect(plain).toEqual(['0']);
        }
      } finally {
        await single.close();
      }
    });

    it('readOnly transactions refuse writes in the database', async () => {
      const error = await tm.run(() => insert(9), { readOnly: true }).catch((e: unknown) => e);
      expect(isReadOnlyViolation(kind, error)).toBe(true);
      expect(await ids()).toEqual([]);
    });

    it('synchronisation hooks run in Spring order, awaited, on commit and on rollback', async () => {
      const log: string[] = [];
      const hooks = (tag: string) => ({
        beforeCommit: async (readOnly: boolean) => {
          await sleep(1);
          log.push(`${tag}.beforeCommit(${readOnly})`);
        },
        afterCommit: () => void log.push(`${tag}.afterCommit`),
        afterRollback: () => void log.push(`${tag}.afterRollback`),
        afterCompletion: (status: string) => void log.push(`${tag}.afterCompletion(${status})`),
      });
      await tm.run(async () => {
        tm.synchronize(hooks('a'));
        await tm.run(() => tm.synchronize(hooks('b')));
        await insert(1);
        log.push('body');
      });
      expect(log).toEqual([
        'body',
        'a.beforeCommit(false)',
        'b.beforeCommit(false)',
        'a.afterCommit',
        'b.afterCommit',
        'a.afterCompletion(COMMITTED)',
        'b.afterCompletion(COMMITTED)',
      ]);
      log.length = 0;
      await tm
        .run(async () => {
          tm.synchronize(hooks('c'));
          throw new BusinessError('x');
        })
        .catch(() => undefined);
      expect(log).toEqual(['c.afterRollback', 'c.afterCompletion(ROLLED_BACK)']);
      expect(() => tm.synchronize({})).toThrow(IllegalTransactionStateError);
    });

    it('SUPPORTS, NOT_SUPPORTED and NEVER without a transaction complete their own hooks, as Spring does for empty transactions', async () => {
      const log: string[] = [];
      const hooks = (tag: string) => ({
        beforeCommit: (readOnly: boolean) => void log.push(`${tag}.beforeCommit(${readOnly})`),
        afterCommit: () => void log.push(`${tag}.afterCommit`),
        afterRollback: () => void log.push(`${tag}.afterRollback`),
        afterCompletion: (status: string) => void log.push(`${tag}.afterCompletion(${status})`),
      });
      const committed = [
        (tag: string, readOnly = false) => `${tag}.beforeCommit(${readOnly})`,
        (tag: string) => `${tag}.afterCommit`,
        (tag: string) => `${tag}.afterCompletion(COMMITTED)`,
      ];
      const before = tm.metrics();
      // The outermost empty scope owns the hooks; an empty scope inside it takes part.
      await tm.run(
        async () => {
          tm.synchronize(hooks('s'));
          await tm.run(() => tm.synchronize(hooks('inner')), { propagation: 'NEVER' });
          log.push('body');
        },
        { propagation: 'SUPPORTS', readOnly: true },
      );
      expect(log.splice(0)).toEqual(['body', ...committed.flatMap((line) => [line('s', true), line('inner', true)])]);
      // NOT_SUPPORTED suspends the transaction and its hooks: its own run when it ends, before the outer commit.
      await tm.run(async () => {
        tm.synchronize(hooks('outer'));
        await tm.run(() => tm.synchronize(hooks('suspended')), { propagation: 'NOT_SUPPORTED' });
        log.push('outer body');
        await insert(1);
      });
      expect(log.splice(0)).toEqual([
        ...committed.map((line) => line('suspended')),
        'outer body',
        ...committed.map((line) => line('outer')),
      ]);
      // A transaction begun inside an empty scope has hooks of its own.
      await tm.run(
        async () => {
          tm.synchronize(hooks('empty'));
          await tm.run(async () => {
            tm.synchronize(hooks('tx'));
            await insert(2);
          });
          log.push('after tx');
        },
        { propagation: 'SUPPORTS' },
      );
      expect(log.splice(0)).toEqual([...committed.map((line) => line('tx')), 'after tx', ...committed.map((line) => line('empty'))]);
      // Rollback rules and setRollbackOnly decide the empty outcome too; nothing is counted for it.
      await expect(
        tm.run(
          () => {
            tm.synchronize(hooks('n'));
            throw new BusinessError('x');
          },
          { propagation: 'NEVER' },
        ),
      ).rejects.toBeInstanceOf(BusinessError);
      const value = await tm.run(
        () => {
          tm.synchronize(hooks('r'));
          tm.setRollbackOnly();
          return 5;
        },
        { propagation: 'SUPPORTS' },
      );
      expect(value).toBe(5);
      await expect(
        tm.run(
          () => {
            tm.synchronize(hooks('h'));
            throw new Harmless('keep');
          },
          { propagation: 'NOT_SUPPORTED', noRollbackOn: [Harmless] },
        ),
      ).rejects.toBeInstanceOf(Harmless);
      expect(log.splice(0)).toEqual([
        'n.afterRollback',
        'n.afterCompletion(ROLLED_BACK)',
        'r.afterRollback',
        'r.afterCompletion(ROLLED_BACK)',
        ...committed.map((line) => line('h')),
      ]);
      const after = tm.metrics();
      expect([after.commits - before.commits, after.rollbacks - before.rollbacks]).toEqual([2, 0]);
      expect(await ids()).toEqual([1, 2]);
    });

    it('beforeCommit runs inside the transaction: its writes are part of it and a later veto undoes them', async () => {
      await tm.run(async () => {
        tm.synchronize({ beforeCommit: () => insert(1) });
        tm.synchronize({ beforeCommit: () => expect(tm.current()?.scope).toBe('new') });
      });
      expect(await ids()).toEqual([1]);
      await expect(
        tm.run(async () => {
          tm.synchronize({ beforeCommit: () => insert(2) });
          tm.synchronize({ beforeCommit: () => Promise.reject(new BusinessError('veto')) });
        }),
      ).rejects.toThrow('veto');
      expect(await ids()).toEqual([1]);
      // A joined scope that fails inside a hook dooms the transaction like any other.
      const error = await tm
        .run(async () => {
          await insert(3);
          tm.synchronize({
            beforeCommit: () =>
              tm
                .run(() => {
                  throw new BusinessError('inside the hook');
                })
                .catch(() => undefined),
          });
        })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnexpectedRollbackError);
      expect(await ids()).toEqual([1]);
    });

    it('beforeCommit vetoes; afterCommit errors reach the caller after the commit; afterCompletion errors are logged', async () => {
      await expect(
        tm.run(async () => {
          await insert(1);
          tm.synchronize({ beforeCommit: () => Promise.reject(new BusinessError('veto')) });
        }),
      ).rejects.toThrow('veto');
      expect(await ids()).toEqual([]);
      const seen: string[] = [];
      await expect(
        tm.run(async () => {
          await insert(2);
          tm.synchronize({
            afterCommit: () => Promise.reject(new BusinessError('late')),
            afterCompletion: (s) => void seen.push(`first ${s}`),
          });
          tm.synchronize({
            afterCommit: () => void seen.push('second afterCommit'),
            afterCompletion: () => Promise.reject(new Error('ignored')),
          });
        }),
      ).rejects.toThrow('late');
      expect(await ids()).toEqual([2]);
      expect(seen).toEqual(['first COMMITTED']);
      expect(warnings.some(([m]) => m.includes('afterCompletion hook failed'))).toBe(true);
    });

    it('retry: a retryable failure is retried with a new transaction; exhaustion carries every cause', async () => {
      let calls = 0;
      const value = await tm.run(
        async () => {
          calls += 1;
          await insert(calls);
          if (calls < 3) throw new OptimisticLockError('items', calls, 1);
          return 'done';
        },
        { retry: { attempts: 3, baseDelayMs: 1 } },
      );
      expect(value).toBe('done');
      expect(await ids()).toEqual([3]);
      const error = await tm
        .run(
          () => {
            throw new OptimisticLockError('items', 1, 1);
          },
          { retry: { attempts: 2, baseDelayMs: 1 } },
        )
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RetriesExhaustedError);
      expect((error as RetriesExhaustedError).attempts.map((a) => a.cause)).toEqual(['optimistic-lock', 'optimistic-lock']);
      await expect(tm.run(() => Promise.reject(new BusinessError('not retryable')), { retry: 5 })).rejects.toBeInstanceOf(BusinessError);
    });

    it('timeoutMs aborts a transaction stuck in JavaScript, rolls it back and discards its connection', async () => {
      const started = performance.now();
      let resume!: () => void;
      let lateWrite: unknown;
      const error = await tm
        .run(
          async () => {
            await insert(1);
            await new Promise<void>((resolve) => {
              resume = resolve;
            });
            lateWrite = await Promise.resolve()
              .then(() => insert(2))
              .catch((e: unknown) => e);
          },
          { timeoutMs: 150 },
        )
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TransactionTimeoutError);
      expect(performance.now() - started).toBeLessThan(2000);
      resume();
      await sleep(20);
      expect(await ids()).toEqual([]);
      // The abandoned code's next statement gets the timeout, not a discarded connection.
      expect(lateWrite).toBeInstanceOf(TransactionTimeoutError);
      // Scopes the abandoned code opens afterwards get the timeout too.
      let late: unknown;
      const abandoned = tm.run(
        async () => {
          await new Promise<void>((resolve) => {
            resume = resolve;
          });
          late = await tm.run(() => 'joined').catch((e: unknown) => e);
        },
        { timeoutMs: 100 },
      );
      await expect(abandoned).rejects.toBeInstanceOf(TransactionTimeoutError);
      resume();
      await sleep(20);
      expect(late).toBeInstanceOf(TransactionTimeoutError);
      expect(tm.metrics().timeouts).toBeGreaterThan(0);
    });

    if (kind !== 'sqlite') {
      it('timeoutMs stops a long statement in the database', async () => {
        const started = performance.now();
        await expect(tm.run(() => tm.execute(sleepSql(kind, 5)), { timeoutMs: 200 })).rejects.toBeInstanceOf(TransactionTimeoutError);
        expect(performance.now() - started).toBeLessThan(3000);
        expect(await tm.run(() => scalar(tm, 'SELECT 1'))).toBe(1);
      });

      it('REQUIRES_NEW suspends the outer transaction and commits on its own connection', async () => {
        await tm
          .run(async () => {
            await insert(1);
            const outer = tm.db();
            await tm.run(
              async () => {
                expect(tm.db()).not.toBe(outer);
                await insert(2);
                // REQUIRED inside REQUIRES_NEW joins the new transaction, not the suspended one.
                await tm.run(async () => insert(3));
              },
              { propagation: 'REQUIRES_NEW' },
            );
            expect(tm.db()).toBe(outer);
            throw new BusinessError('outer fails after the audit row committed');
          })
          .catch(() => undefined);
        expect(await ids()).toEqual([2, 3]);
      });

      it('REQUIRES_NEW refuses to wait for a connection while holding one when the pool is exhausted', async () => {
        let release!: () => void;
        const blocker = tm.run(() => new Promise<void>((resolve) => (release = resolve)));
        await sleep(30);
        const error = await tm
          .run(async () => {
            await tm.run(
              async () => {
                await tm.run(() => 'never', { propagation: 'REQUIRES_NEW' });
              },
              { propagation: 'REQUIRES_NEW' },
            );
          })
          .catch((e: unknown) => e);
        release();
        await blocker;
        expect(error).toBeInstanceOf(PoolExhaustedError);
        expect((error as Error).message).toMatch(/all 3 of the pool are in use/);
      });
    } else {
      it('SQLite: a second write transaction from the same context is refused, a read-only REQUIRES_NEW is allowed', async () => {
        await tm.run(async () => {
          await insert(1);
          await expect(tm.run(() => insert(2), { propagation: 'REQUIRES_NEW' })).rejects.toThrow(/one writer at a time/);
          expect(await tm.run(() => scalar(tm, 'SELECT count(*) FROM items'), { propagation: 'REQUIRES_NEW', readOnly: true })).toBe(0);
        });
        expect(await ids()).toEqual([1]);
      });

      it('SQLite: write transactions BEGIN IMMEDIATE, so a writer elsewhere fails the BEGIN (retried) before fn runs', async () => {
        const other = new Database(db.current.url);
        try {
          other.exec('BEGIN IMMEDIATE');
          let calls = 0;
          const write = () => {
            calls += 1;
            return insert(1);
          };
          const error = (await tm.run(write).catch((e: unknown) => e)) as { code?: string };
          expect(error.code).toBe('SQLITE_BUSY');
          expect(calls).toBe(0);
          // Readers are not blocked by the writer (WAL).
          expect(await tm.run(() => scalar(tm, 'SELECT count(*) FROM items'), { readOnly: true })).toBe(0);
          const before = tm.metrics().retries.busy ?? 0;
          setTimeout(() => other.exec('COMMIT'), 60);
          await tm.run(write, { retry: { attempts: 50, baseDelayMs: 5, maxDelayMs: 20 } });
          expect(calls).toBe(1);
          expect(tm.metrics().retries.busy ?? 0).toBeGreaterThan(before);
          expect(await ids()).toEqual([1]);
        } finally {
          if (other.inTransaction) other.exec('ROLLBACK');
          other.close();
        }
      });
    }

    it('warns about transactions held open past the leak threshold and counts commits', async () => {
      const before = tm.metrics();
      await tm.run(() => sleep(600), { name: 'slowpoke' });
      const after = tm.metrics();
      expect(warnings.some(([m]) => m.includes('slowpoke') && m.includes('has been open'))).toBe(true);
      expect(after.leakWarnings).toBe(before.leakWarnings + 1);
      expect(after.commits).toBe(before.commits + 1);
      expect(after.durations.committed.maxMs).toBeGreaterThanOrEqual(550);
      expect(after.open).toBe(0);
    });

    it('validates options, naming the field', async () => {
      await expect(tm.run(() => 1, { propagation: 'SOMETIMES' as never })).rejects.toThrow(/propagation/);
      await expect(tm.run(() => 1, { timeoutMs: -1 })).rejects.toThrow(/timeoutMs/);
      await expect(tm.run(() => 1, { retry: { attempts: 0 } })).rejects.toThrow(/retry.attempts/);
      await expect(tm.run(() => 1, { isolaton: 'SERIALIZABLE' } as never)).rejects.toThrow(/isolaton/);
      const spy = vi.fn();
      await expect(tm.run(spy, { rollbackOn: ['nope'] as never })).rejects.toThrow(/rollbackOn\[0\]/);
      expect(spy).not.toHaveBeenCalled();
    });
  });
}

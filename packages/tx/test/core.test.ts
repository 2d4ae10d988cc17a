import Database from 'better-sqlite3';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runAfterCommit, runAfterCompletion, runBeforeCommit } from '../src/core/hooks.js';
import {
  backoffDelay,
  classifyError,
  decide,
  IllegalTransactionStateError,
  InvalidOptionsError,
  joinConflicts,
  lockOrder,
  mysqlDriver,
  OptimisticLockError,
  PROPAGATIONS,
  type Propagation,
  pgDriver,
  resolveOptions,
  shouldRollback,
  sqliteDriver,
  TransactionManager,
} from '../src/index.js';

const running = { isolation: 'READ_COMMITTED' as const, readOnly: false };

describe('propagation table (Spring)', () => {
  const expected: Record<Propagation, [inside: string, outside: string]> = {
    REQUIRED: ['join', 'begin'],
    REQUIRES_NEW: ['begin+suspend', 'begin'],
    NESTED: ['savepoint', 'begin'],
    SUPPORTS: ['join', 'none'],
    NOT_SUPPORTED: ['none+suspend', 'none'],
    MANDATORY: ['join', 'fail'],
    NEVER: ['fail', 'none'],
  };
  const label = (d: ReturnType<typeof decide>) =>
    d.kind === 'begin' || d.kind === 'none' ? `${d.kind}${d.suspends ? '+suspend' : ''}` : d.kind;
  for (const propagation of PROPAGATIONS) {
    it(`${propagation}: ${expected[propagation].join(' / ')}`, () => {
      const options = resolveOptions({ propagation });
      expect(label(decide(running, options))).toBe(expected[propagation][0]);
      expect(label(decide(undefined, options))).toBe(expected[propagation][1]);
    });
  }

  it('retry is ignored on scopes that join or nest, and an error on scopes that run without a transaction', () => {
    for (const propagation of PROPAGATIONS) {
      const options = resolveOptions({ propagation, retry: 2 });
      for (const state of [running, undefined]) {
        const decision = decide(state, options);
        const plain = decide(state, resolveOptions({ propagation }));
        if (plain.kind === 'join' || plain.kind === 'savepoint' || plain.kind === 'begin') expect(decision).toEqual(plain);
        else if (plain.kind === 'none') {
          expect(decision.kind).toBe('fail');
          if (decision.kind === 'fail') expect(decision.error).toBeInstanceOf(IllegalTransactionStateError);
        }
      }
    }
  });

  it('join conflicts: isolation mismatch, read-write inside read-only, a timeout on a joined scope', () => {
    expect(joinConflicts(running, resolveOptions({}))).toEqual([]);
    expect(joinConflicts(running, resolveOptions({ isolation: 'READ_COMMITTED', readOnly: true }))).toEqual([]);
    expect(joinConflicts(running, resolveOptions({ isolation: 'SERIALIZABLE' }))[0]).toMatch(/SERIALIZABLE/);
    expect(joinConflicts({ isolation: undefined, readOnly: true }, resolveOptions({}))[0]).toMatch(/read-only/);
    expect(joinConflicts(running, resolveOptions({ timeoutMs: 5 }))[0]).toMatch(/deadline/);
  });
});

describe('options', () => {
  it('fills defaults', () => {
    const options = resolveOptions(undefined);
    expect(options.propagation).toBe('REQUIRED');
    expect(options.retry).toBeUndefined();
    expect(resolveOptions({ retry: 4 }).retry).toEqual({ attempts: 4, baseDelayMs: 10, maxDelayMs: 1000, lockNotAvailable: false });
  });

  it('rejects any unknown key, naming it', () => {
    fc.assert(
      fc.property(
        fc
          .string({ minLength: 1 })
          .filter(
            (k) =>
              !['propagation', 'isolation', 'readOnly', 'timeoutMs', 'rollbackOn', 'noRollbackOn', 'retry', 'name'].includes(k) &&
              k !== '__proto__',
          ),
        (key) => {
          try {
            resolveOptions({ [key]: 1 } as never);
            return false;
          } catch (error) {
            return error instanceof InvalidOptionsError && error.field === key;
          }
        },
      ),
    );
  });

  it('names the bad field', () => {
    expect(() => resolveOptions({ retry: { attempts: 2, baseDelayMs: 50, maxDelayMs: 10 } })).toThrow(/retry.maxDelayMs/);
    expect(() => resolveOptions({ readOnly: 'yes' as never })).toThrow(/readOnly/);
    expect(() => resolveOptions({ noRollbackOn: [1] as never })).toThrow(/noRollbackOn\[0\]/);
  });

  it('refuses durations longer than a Node timer can wait (it would fire at once)', () => {
    expect(() => resolveOptions({ timeoutMs: 2 ** 31 })).toThrow(/timeoutMs: must be at most 2147483647/);
    expect(() => resolveOptions({ retry: { attempts: 2, maxDelayMs: 2 ** 40 } })).toThrow(/retry.maxDelayMs/);
    expect(resolveOptions({ timeoutMs: 2 ** 31 - 1 }).timeoutMs).toBe(2 ** 31 - 1);
  });
});

describe('rollback rules', () => {
  class A extends Error {}
  class B extends A {}
  it('every error rolls back by default; classes match subclasses; rollbackOn wins', () => {
    expect(shouldRollback(new Error('x'), { rollbackOn: [], noRollbackOn: [] })).toBe(true);
    expect(shouldRollback('a string', { rollbackOn: [], noRollbackOn: [] })).toBe(true);
    expect(shouldRollback(new B(), { rollbackOn: [], noRollbackOn: [A] })).toBe(false);
    expect(shouldRollback(new TypeError(), { rollbackOn: [], noRollbackOn: [TypeError] })).toBe(false);
    expect(shouldRollback(new B(), { rollbackOn: [B], noRollbackOn: [A] })).toBe(true);
    expect(shouldRollback(new Error('soft'), { rollbackOn: [], noRollbackOn: [(e) => (e as Error).message === 'soft'] })).toBe(false);
  });
});

describe('retry classification', () => {
  it('maps database error codes to causes, through cause chains', () => {
    expect(classifyError('postgres', { code: '40001' })).toBe('serialization');
    expect(classifyError('postgres', { code: '40P01' })).toBe('deadlock');
    expect(classifyError('postgres', { code: '55P03' })).toBeUndefined();
    expect(classifyError('postgres', { code: '55P03' }, { lockNotAvailable: true })).toBe('lock-not-available');
    expect(classifyError('postgres', { code: '23505' })).toBeUndefined();
    expect(classifyError('mysql', { errno: 1213 })).toBe('deadlock');
    expect(classifyError('mysql', { errno: 1205 })).toBe('lock-timeout');
    expect(classifyError('mysql', { errno: 1062 })).toBeUndefined();
    expect(classifyError('sqlite', { code: 'SQLITE_BUSY_SNAPSHOT' })).toBe('busy');
    expect(classifyError('sqlite', new Error('wrapped', { cause: { code: 'SQLITE_BUSY' } }))).toBe('busy');
    expect(classifyError('mysql', new OptimisticLockError('t', 1, 1))).toBe('optimistic-lock');
    const loop: { cause?: unknown } = {};
    loop.cause = loop;
    expect(classifyError('postgres', loop)).toBeUndefined();
  });

  it('backoff is full jitter under a capped exponential ceiling', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 500 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, base, extra, r) => {
          const policy = { baseDelayMs: base, maxDelayMs: base + extra };
          const delay = backoffDelay(attempt, policy, () => r);
          const ceiling = Math.min(policy.maxDelayMs, base * 2 ** (attempt - 1));
          return delay >= 0 && delay <= ceiling && Number.isInteger(delay);
        },
      ),
    );
  });
});

describe('lock order', () => {
  it('is sorted, duplicate-free and independent of the input order', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -50, max: 50 })), (ids) => {
        const ordered = lockOrder(ids);
        const reversed = lockOrder([...ids].reverse());
        return (
          JSON.stringify(ordered) === JSON.stringify(reversed) &&
          ordered.every((v, i) => i === 0 || (ordered[i - 1] as number) < (v as number)) &&
          new Set(ids).size === ordered.length
        );
      }),
    );
    expect(lockOrder(['b', 'a', 'B'])).toEqual(['B', 'a', 'b']);
    expect(lockOrder([2n, 1, 1n]).map(String)).toEqual(['1', '2']);
    expect(() => lockOrder([1, 'a'])).toThrow(/all numbers or all strings/);
  });
});

describe('hook runners', () => {
  it('afterCommit stops at the first error; afterCompletion reports and continues', async () => {
    const log: string[] = [];
    await expect(
      runAfterCommit([
        { afterCommit: () => void log.push('1') },
        { afterCommit: () => Promise.reject(new Error('2')) },
        { afterCommit: () => void log.push('3') },
      ]),
    ).rejects.toThrow('2');
    expect(log).toEqual(['1']);
    const reported: string[] = [];
    await runAfterCompletion(
      [{ afterCompletion: () => Promise.reject(new Error('a')) }, { afterCompletion: (s) => void log.push(s) }],
      'ROLLED_BACK',
      (hook) => reported.push(hook),
    );
    expect(log).toEqual(['1', 'ROLLED_BACK']);
    expect(reported).toEqual(['afterCompletion']);
  });

  it('beforeCommit sees hooks registered by earlier hooks', async () => {
    const log: string[] = [];
    const hooks: Array<{ beforeCommit: () => void }> = [];
    hooks.push({ beforeCommit: () => void hooks.push({ beforeCommit: () => void log.push('late') }) });
    await runBeforeCommit(hooks, false);
    expect(log).toEqual(['late']);
  });
});

describe('entry points validate their input', () => {
  it('names what is wrong', () => {
    expect(() => pgDriver({} as never)).toThrow(/pg Pool/);
    expect(() => mysqlDriver(null as never)).toThrow(/mysql2\/promise Pool/);
    expect(() => sqliteDriver({} as never)).toThrow(/options.open/);
    expect(() => sqliteDriver({ open: () => ({}) as never, connections: 0 })).toThrow(/options.connections/);
    expect(() => new TransactionManager({} as never)).toThrow(/driver/);
    const driver = sqliteDriver({ open: () => new Database(':memory:') });
    expect(() => new TransactionManager(driver, { onConflict: 'silent' as never })).toThrow(/onConflict/);
    expect(() => new TransactionManager(driver, { logger: { warn: () => undefined, debug: 1 } as never })).toThrow(/logger.debug/);
    expect(() => new TransactionManager(driver, { leakWarningMs: -1 })).toThrow(/leakWarningMs/);
    expect(() => new TransactionManager(driver, { leakWarningMs: Number.POSITIVE_INFINITY })).toThrow(/leakWarningMs/);
    expect(() => new TransactionManager(driver, { logger: {} as never })).toThrow(/logger/);
    const tm = new TransactionManager(driver);
    expect(() => tm.execute('')).toThrow(/sql/);
    expect(() => tm.synchronize({ beforeComit: () => undefined } as never)).toThrow(/beforeComit/);
    return tm.close();
  });
});

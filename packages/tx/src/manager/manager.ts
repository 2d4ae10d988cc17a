import { AsyncLocalStorage } from 'node:async_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Driver, QueryResult } from '../adapters/driver.js';
import {
  type AttemptFailure,
  IllegalTransactionStateError,
  PoolExhaustedError,
  RetriesExhaustedError,
  TransactionOptionsConflictError,
  TransactionTimeoutError,
  UnexpectedRollbackError,
} from '../core/errors.js';
import {
  type CompletionStatus,
  type HookErrorReporter,
  runBeforeCommit,
  type Synchronization,
  validateSynchronization,
} from '../core/hooks.js';
import { cloneMetrics, emptyMetrics, type TransactionMetrics } from '../core/metrics.js';
import { type Isolation, MAX_TIMER_MS, type ResolvedOptions, resolveOptions, type TxOptions } from '../core/options.js';
import { decide, joinConflicts } from '../core/propagation.js';
import { backoffDelay, classifyError, type Dialect, type RetryCause } from '../core/retry.js';
import { shouldRollback } from '../core/rollback.js';
import type { EmptyTransaction, Frame, PhysicalTransaction, Scope } from './context.js';
import { TIMED_OUT, withDeadline } from './deadline.js';
import { complete, type Outcome, settle } from './outcome.js';

export interface Logger {
  warn(message: string, details?: Record<string, unknown>): void;
  /** Decisions worth knowing when debugging (a retry or a conflicting option ignored on a joined scope). */
  debug?(message: string, details?: Record<string, unknown>): void;
}

export interface ManagerOptions {
  /**
   * What a joined scope whose options the running transaction does not give (isolation, readOnly,
   * timeoutMs) gets: nothing but a debug log ('ignore', the default, as Spring's
   * validateExistingTransaction=false), a warning, or an error ('reject', Spring's strict mode).
   */
  readonly onConflict?: 'ignore' | 'reject' | 'warn';
  /** Warn about transactions open longer than this (leaks). 0 disables. Default 30 s. */
  readonly leakWarningMs?: number;
  /** Capture the stack where each transaction began, for leak warnings. Costs a few microseconds per transaction. */
  readonly captureStacks?: boolean;
  readonly logger?: Logger;
  /** Jitter source for retry backoff. */
  readonly random?: () => number;
}

export interface TransactionInfo {
  readonly name: string | undefined;
  readonly isolation: Isolation | undefined;
  readonly readOnly: boolean;
  readonly rollbackOnly: boolean;
  readonly scope: 'new' | 'joined' | 'nested';
}

/**
 * Spring's transaction model over one database: propagation, isolation, read-only, timeouts,
 * rollback rules, retries on the outermost boundary, synchronisation hooks. The current
 * transaction travels with AsyncLocalStorage, so `db()` anywhere below `run` sees it.
 */
export class TransactionManager<C = unknown, P = unknown> {
  readonly #driver: Driver<C, P>;
  readonly #als = new AsyncLocalStorage<Frame<C>>();
  readonly #metrics = emptyMetrics();
  readonly #onConflict: 'ignore' | 'reject' | 'warn';
  /** Rejecters of `run` calls waiting for a pool connection, settled by close(). */
  readonly #waiting = new Set<(error: Error) => void>();
  #closed = false;
  /** When the last pool-exhaustion warning was logged (they are limited to one a minute). */
  #poolWarnedAt = Number.NEGATIVE_INFINITY;
  /** Physical transactions between acquire and release; close() lets them finish. */
  readonly #inFlight = new Set<Promise<unknown>>();
  readonly #leakWarningMs: number;
  readonly #captureStacks: boolean;
  readonly #logger: Logger;
  readonly #random: () => number;

  constructor(driver: Driver<C, P>, options: ManagerOptions = {}) {
    if (driver === null || typeof driver !== 'object' || typeof driver.acquire !== 'function') {
      throw new TypeError('TransactionManager(driver): driver must come from pgDriver, mysqlDriver or sqliteDriver');
    }
    const { onConflict = 'ignore', leakWarningMs = 30_000, captureStacks = false, logger = console, random = Math.random } = options;
    if (onConflict !== 'ignore' && onConflict !== 'reject' && onConflict !== 'warn')
      throw new TypeError(`ManagerOptions.onConflict must be "ignore", "reject" or "warn", got ${String(onConflict)}`);
    if (typeof leakWarningMs !== 'number' || !(leakWarningMs >= 0 && leakWarningMs <= MAX_TIMER_MS))
      throw new TypeError(`ManagerOptions.leakWarningMs must be a number from 0 (off) to ${MAX_TIMER_MS}, got ${String(leakWarningMs)}`);
    if (typeof logger?.warn !== 'function') throw new TypeError('ManagerOptions.logger must have a warn(message, details) method');
    if (logger.debug !== undefined && typeof logger.debug !== 'function')
      throw new TypeError('ManagerOptions.logger.debug must be a function');
    if (typeof random !== 'function') throw new TypeError('ManagerOptions.random must be a function');
    this.#driver = driver;
    this.#onConflict = onConflict;
    this.#leakWarningMs = leakWarningMs;
    this.#captureStacks = captureStacks === true;
    this.#logger = logger;
    this.#random = random;
  }

  get dialect(): Dialect {
    return this.#driver.dialect;
  }

  get driver(): Driver<C, P> {
    return this.#driver;
  }

  /** Runs `fn` inside the transaction scope `options` describes and returns its result. */
  async run<T>(fn: () => T | Promise<T>, options?: TxOptions): Promise<T> {
    if (typeof fn !== 'function') throw new TypeError('run(fn, options): fn must be a function');
    if (this.#closed) throw new IllegalTransactionStateError('run(): the transaction manager is closed');
    const opts = resolveOptions(options);
    const frame = this.#als.getStore();
    const running = frame?.tx;
    this.#live(frame, 'run()');
    const decision = decide(running, opts);
    switch (decision.kind) {
      case 'fail':
        throw decision.error;
      case 'none':
        return this.#empty(frame, fn, opts);
      case 'join':
        this.#checkJoin(running!, opts);
        return this.#join(frame!, fn, opts);
      case 'savepoint':
        this.#checkJoin(running!, opts);
        return this.#nested(frame!, fn, opts);
      case 'begin': {
        const work = this.#outermost(frame, fn, opts);
        this.#inFlight.add(work);
        return work.finally(() => this.#inFlight.delete(work));
      }
    }
  }

  /** The connection of the current transaction, or the pool when there is none (or it is suspended). */
  db(): C | P {
    return this.#live(this.#als.getStore(), 'db()')?.connection ?? this.#driver.pool;
  }

  /** Runs one statement on `db()`. Placeholders follow the driver: `$1` for pg, `?` for mysql2 and SQLite. */
  execute<Row = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<Row>> {
    if (typeof sql !== 'string' || sql.trim() === '') throw new TypeError('execute(sql, params): sql must be a non-empty string');
    if (!Array.isArray(params)) throw new TypeError('execute(sql, params): params must be an array');
    return this.#driver.query<Row>(this.db(), sql, params);
  }

  /** Whether the caller runs inside an active transaction (not suspended, not ended, not past its deadline). */
  inTransaction(): boolean {
    const tx = this.#als.getStore()?.tx;
    return tx !== undefined && !tx.ended && !tx.timedOut;
  }

  /** Facts about the current transaction, or undefined outside one. */
  current(): TransactionInfo | undefined {
    const frame = this.#als.getStore();
    const tx = frame?.tx;
    const kind = frame?.scope.kind;
    if (tx === undefined || kind === undefined || kind === 'none') return undefined;
    return {
      name: tx.name,
      isolation: tx.isolation,
      readOnly: tx.readOnly,
      rollbackOnly: tx.rollbackOnly || frame!.scope.rollbackOnly,
      scope: kind,
    };
  }

  /**
   * Marks the current scope rollback-only: an outermost scope then rolls back quietly, a nested one
   * rolls back to its savepoint, a joined one dooms the whole transaction (its commit throws
   * UnexpectedRollbackError).
   */
  setRollbackOnly(): void {
    this.#requireScope('setRollbackOnly').scope.rollbackOnly = true;
  }

  /**
   * Registers hooks on the current physical transaction, or on the "empty" transaction of a
   * SUPPORTS, NOT_SUPPORTED or NEVER scope running without one; they run in registration order.
   */
  synchronize(synchronization: Synchronization): void {
    const hooks = validateSynchronization(synchronization);
    const frame = this.#requireScope('synchronize');
    (frame.tx?.hooks ?? frame.empty!.hooks).push(hooks);
  }

  /** Counters and durations since the manager was made. */
  metrics(): TransactionMetrics {
    return cloneMetrics(this.#metrics);
  }

  /**
   * Closes the pool: calls still waiting for a connection fail at once instead of hanging, running
   * transactions finish (they have their own deadlines), new calls are refused.
   */
  async close(): Promise<void> {
    this.#closed = true;
    const error = new IllegalTransactionStateError('the transaction manager was closed while this call waited for a connection');
    for (const reject of this.#waiting) reject(error);
    this.#waiting.clear();
    await Promise.allSettled([...this.#inFlight]);
    await this.#driver.close();
  }

  /** The frame of a running transaction, physical or empty; outside every `run` there is none. */
  #requireScope(what: string): Frame<C> {
    const frame = this.#als.getStore();
    if (frame?.tx === undefined && frame?.empty?.ended)
      throw new IllegalTransactionStateError(`${what}(): the scope this code ran in has already ended`);
    if (!this.#live(frame, `${what}()`) && !frame?.empty) throw new IllegalTransactionStateError(`${what}() needs a running transaction`);
    return frame!;
  }

  /**
   * The frame's transaction, refusing one that has ended: AsyncLocalStorage hands the frame to every
   * promise started inside `fn`, also to one nobody awaited, and its connection is back in the pool,
   * possibly serving another transaction.
   */
  #live(frame: Frame<C> | undefined, what: string): PhysicalTransaction<C> | undefined {
    const tx = frame?.tx;
    // Code still running after its transaction's deadline gets the timeout, not a dead connection's error.
    if (tx?.timedOut) throw new TransactionTimeoutError(tx.timeoutMs!);
    if (tx?.ended) {
      throw new IllegalTransactionStateError(
        `${what}: the transaction${tx.name ? ` ${tx.name}` : ''} this code ran in has already ended; ` +
          'code that outlives its transaction (a promise nobody awaited) must start its own with run()',
      );
    }
    return tx;
  }

  /**
   * A scope without a physical transaction. The outermost such scope owns the hooks registered in it
   * and completes them as Spring completes an empty transaction: on success (or an error its rules
   * do not roll back for) beforeCommit, afterCommit, afterCompletion('COMMITTED'); otherwise, and
   * after setRollbackOnly(), afterRollback and afterCompletion('ROLLED_BACK'). Nothing is counted.
   */
  async #empty<T>(frame: Frame<C> | undefined, fn: () => T | Promise<T>, opts: ResolvedOptions): Promise<T> {
    const scope: Scope = { kind: 'none', rollbackOnly: false };
    const base = { tx: undefined, scope, held: frame?.held ?? 0, writeHeld: frame?.writeHeld ?? false };
    // Already inside an empty scope: take part in its synchronisation.
    if (frame !== undefined && frame.tx === undefined && frame.empty !== undefined && !frame.empty.ended) {
      const empty = frame.empty;
      return this.#als.run({ ...base, empty }, async () => fn());
    }
    const hooks: Synchronization[] = [];
    const empty: EmptyTransaction = { hooks, ended: false };
    const own: Frame<C> = { ...base, empty };
    const result = await this.#als
      .run(own, async () => fn())
      .then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => ({ ok: false as const, error }),
      );
    const carry = result.ok ? { value: result.value, hasError: false as const } : { error: result.error, hasError: true as const };
    let outcome: Outcome<T>;
    if (scope.rollbackOnly || (!result.ok && shouldRollback(result.error, opts))) {
      outcome = { status: 'ROLLED_BACK', ...carry } as Outcome<T>;
    } else {
      try {
        await this.#als.run(own, () => runBeforeCommit(hooks, opts.readOnly === true));
        outcome = { status: 'COMMITTED', ...carry } as Outcome<T>;
      } catch (error) {
        outcome = { status: 'ROLLED_BACK', error, hasError: true };
      }
    }
    empty.ended = true;
    return complete(outcome, hooks, this.#hookReporter(opts.name));
  }

  #hookReporter(transaction: string | undefined): HookErrorReporter {
    return (hook, error) => this.#logger.warn(`@myrmex/tx: ${hook} hook failed`, { transaction, error });
  }

  #checkJoin(running: PhysicalTransaction<C>, opts: ResolvedOptions): void {
    const scope = opts.name ? ` ${opts.name}` : '';
    if (opts.retry !== undefined)
      this.#logger.debug?.(`@myrmex/tx: retry ignored on${scope}: it joins a running transaction, so only the outermost boundary retries`, {
        name: opts.name,
        propagation: opts.propagation,
      });
    const conflicts = joinConflicts(running, opts);
    if (conflicts.length === 0) return;
    if (this.#onConflict === 'reject') throw new TransactionOptionsConflictError(conflicts);
    const message = `@myrmex/tx: joined scope${scope} conflicts with the running transaction`;
    if (this.#onConflict === 'warn') this.#logger.warn(message, { conflicts });
    else this.#logger.debug?.(message, { conflicts });
  }

  async #join<T>(frame: Frame<C>, fn: () => T | Promise<T>, opts: ResolvedOptions): Promise<T> {
    const tx = frame.tx!;
    const scope: Scope = { kind: 'joined', rollbackOnly: false };
    try {
      const value = await this.#als.run({ ...frame, scope }, async () => fn());
      if (scope.rollbackOnly) this.#doom(tx, undefined);
      return value;
    } catch (error) {
      // As in Spring, a scope marked rollback-only rolls back even when its rules would let the error commit.
      if (scope.rollbackOnly || shouldRollback(error, opts)) this.#doom(tx, error);
      throw error;
    }
  }

  #doom(tx: PhysicalTransaction<C>, cause: unknown): void {
    if (!tx.rollbackOnly) tx.rollbackOnlyCause = cause;
    tx.rollbackOnly = true;
  }

  /**
   * A savepoint scope. As Spring's: an error its rules roll back for, setRollbackOnly(), or a joined
   * child that doomed the transaction roll back to the savepoint and forget the doom raised inside.
   * The last case, and a commit the database refused (RELEASE after an aborted statement), end in
   * UnexpectedRollbackError at this boundary, so an outer scope that catches it still commits.
   */
  async #nested<T>(frame: Frame<C>, fn: () => T | Promise<T>, opts: ResolvedOptions): Promise<T> {
    const tx = frame.tx!;
    tx.savepoints += 1;
    const savepoint = `myrmex_sp_${tx.savepoints}`;
    const driver = this.#driver;
    await driver.savepoint(tx.connection, savepoint);
    const scope: Scope = { kind: 'nested', rollbackOnly: false };
    const doomed = { flag: tx.rollbackOnly, cause: tx.rollbackOnlyCause };
    const undo = async () => {
      await driver.rollbackToSavepoint(tx.connection, savepoint);
      tx.rollbackOnly = doomed.flag;
      tx.rollbackOnlyCause = doomed.cause;
      this.#metrics.savepointRollbacks += 1;
      await driver.releaseSavepoint(tx.connection, savepoint);
    };
    const result = await this.#als
      .run({ ...frame, scope }, async () => fn())
      .then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => ({ ok: false as const, error }),
      );
    if (tx.timedOut) {
      if (!result.ok) throw result.error;
      throw new TransactionTimeoutError(tx.timeoutMs!);
    }
    const unexpected = (cause: unknown, why: string) => {
      this.#metrics.unexpectedRollbacks += 1;
      return new UnexpectedRollbackError(`nested scope${opts.name ? ` ${opts.name}` : ''} rolled back to its savepoint: ${why}`, { cause });
    };
    if (!result.ok && (scope.rollbackOnly || shouldRollback(result.error, opts))) {
      await undo();
      throw result.error;
    }
    if (scope.rollbackOnly) {
      await undo();
      return (result as { value: T }).value;
    }
    if (tx.rollbackOnly) {
      const cause = result.ok ? tx.rollbackOnlyCause : result.error;
      await undo();
      throw unexpected(cause, 'a scope that joined it marked the transaction rollback-only');
    }
    try {
      await driver.releaseSavepoint(tx.connection, savepoint);
    } catch (releaseError) {
      // PostgreSQL refuses RELEASE after a statement failed; rolling back to the savepoint makes the
      // transaction usable again, and the application's own error stays the one reported.
      await undo();
      throw unexpected(result.ok ? releaseError : result.error, 'the database refused to keep its work (a statement inside it failed)');
    }
    if (!result.ok) throw result.error;
    return result.value;
  }
  async #outermost<T>(frame: Frame<C> | undefined, fn: () => T | Promise<T>, opts: ResolvedOptions): Promise<T> {
    const retry = opts.retry;
    const failures: AttemptFailure[] = [];
    for (let attempt = 1; ; attempt++) {
      const ended: { status?: CompletionStatus } = {};
      try {
        return await this.#once(frame, fn, opts, ended);
      } catch (error) {
        const cause = this.#retryCause(error, opts);
        // An error after COMMIT (an afterCommit hook) or from a commit of unknown outcome must not run fn again.
        if (retry === undefined || cause === undefined || ended.status === 'COMMITTED' || ended.status === 'UNKNOWN') throw error;
        const last = attempt >= retry.attempts;
        const delayMs = last ? 0 : backoffDelay(attempt, retry, this.#random);
        failures.push({ attempt, cause, error, delayMs });
        if (last) {
          this.#metrics.retriesExhausted += 1;
          throw new RetriesExhaustedError(failures);
        }
        this.#metrics.retries[cause] = (this.#metrics.retries[cause] ?? 0) + 1;
        if (delayMs > 0) await sleep(delayMs);
      }
    }
  }

  /** Why `error` may be retried under this scope's policy; undefined when it may not (or there is no policy). */
  #retryCause(error: unknown, opts: ResolvedOptions): RetryCause | undefined {
    return opts.retry === undefined ? undefined : classifyError(this.#driver.dialect, error, opts.retry);
  }

  #checkCapacity(frame: Frame<C> | undefined, opts: ResolvedOptions): void {
    if (frame === undefined || frame.held === 0) return;
    const driver = this.#driver;
    if (driver.singleWriter && frame.writeHeld && opts.readOnly !== true) {
      throw new IllegalTransactionStateError(
        `${opts.propagation} would begin a second write transaction while this context holds one; ` +
          'SQLite allows one writer at a time, so it would wait for itself forever',
      );
    }
    const free = driver.maxConnections - driver.checkedOut;
    if (free < 1) {
      throw new PoolExhaustedError(
        `${opts.propagation}${opts.name ? ` (${opts.name})` : ''} needs another connection while this context holds ${frame.held}, ` +
          `and all ${driver.maxConnections} of the pool are in use: waiting while holding one can deadlock every caller. ` +
          'Enlarge the pool or avoid suspending here.',
      );
    }
  }

  /** One attempt: acquire, BEGIN, run, COMMIT or ROLLBACK, release, then the after-completion hooks. */
  async #once<T>(
    frame: Frame<C> | undefined,
    fn: () => T | Promise<T>,
    opts: ResolvedOptions,
    ended: { status?: CompletionStatus },
  ): Promise<T> {
    this.#checkCapacity(frame, opts);
    const driver = this.#driver;
    const waitStarted = performance.now();
    const connection = await this.#acquire(opts.timeoutMs);
    // The deadline covers the wait for a connection too: what is left of it bounds the transaction.
    const timeoutMs =
      opts.timeoutMs === undefined ? undefined : Math.max(1, Math.floor(opts.timeoutMs - (performance.now() - waitStarted)));
    const readOnly = opts.readOnly === true;
    const tx: PhysicalTransaction<C> = {
      connection,
      name: opts.name,
      isolation: opts.isolation,
      readOnly,
      timeoutMs: opts.timeoutMs,
      hooks: [],
      rollbackOnly: false,
      rollbackOnlyCause: undefined,
      savepoints: 0,
      timedOut: false,
      ended: false,
    };
    const started = performance.now();
    const leak = this.#watchLeak(tx, started);
    this.#metrics.open += 1;
    let discard = false;
    let outcome: Outcome<T>;
    try {
      try {
        await driver.begin(connection, { isolation: opts.isolation, readOnly, timeoutMs: opts.timeoutMs });
      } catch (error) {
        discard = !(await this.#quietRollback(connection));
        throw error;
      }
      this.#metrics.begun += 1;
      const scope: Scope = { kind: 'new', rollbackOnly: false };
      const inner: Frame<C> = { tx, scope, held: (frame?.held ?? 0) + 1, writeHeld: (frame?.writeHeld ?? false) || !readOnly };
      const work = this.#als.run(inner, async () => fn());
      const result = await withDeadline(work, timeoutMs, () => {
        tx.timedOut = true;
        return driver.abort(connection);
      });
      if (result === TIMED_OUT) {
        discard = true;
        outcome = { status: 'ROLLED_BACK', error: new TransactionTimeoutError(opts.timeoutMs!), hasError: true };
        this.#metrics.timeouts += 1;
      } else if (result.ok) {
        outcome = await this.#commitOrRollback(inner, { value: result.value });
      } else if (driver.isStatementTimeout(result.error) && opts.timeoutMs !== undefined) {
        discard = !(await this.#quietRollback(connection));
        outcome = { status: 'ROLLED_BACK', error: new TransactionTimeoutError(opts.timeoutMs, { cause: result.error }), hasError: true };
        this.#metrics.timeouts += 1;
      } else if (this.#retryCause(result.error, opts) !== undefined || shouldRollback(result.error, opts)) {
        // A failure about to be retried rolls back whatever noRollbackOn says: fn runs again from the start.
        discard = !(await this.#quietRollback(connection));
        outcome = { status: 'ROLLED_BACK', error: result.error, hasError: true };
      } else {
        outcome = await this.#commitOrRollback(inner, { error: result.error });
      }
      if (outcome.status === 'UNKNOWN') discard = true;
      ended.status = outcome.status;
    } finally {
      tx.ended = true;
      clearTimeout(leak);
      this.#metrics.open -= 1;
      await driver.release(connection, discard);
    }
    return settle(outcome, tx.hooks, this.#metrics, performance.now() - started, this.#hookReporter(tx.name));
  }

  /**
   * A connection from the pool, waiting at most `timeoutMs`; close() ends the wait. A connection that
   * arrives after the caller gave up goes straight back to the pool.
   */
  #acquire(timeoutMs: number | undefined): Promise<C> {
    const driver = this.#driver;
    this.#warnIfPoolExhausted();
    const pending = driver.acquire();
    return new Promise<C>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let settled = false;
      const settle = () => {
        settled = true;
        clearTimeout(timer);
        this.#waiting.delete(giveUp);
      };
      const giveUp = (error: Error) => {
        if (settled) return;
        settle();
        pending.then(
          (connection) => driver.release(connection, false),
          () => undefined,
        );
        reject(error);
      };
      if (timeoutMs !== undefined)
        timer = setTimeout(() => {
          this.#metrics.timeouts += 1;
          giveUp(new TransactionTimeoutError(timeoutMs, { waitingForConnection: true }));
        }, timeoutMs);
      this.#waiting.add(giveUp);
      pending.then(
        (connection) => {
          if (settled) return;
          settle();
          resolve(connection);
        },
        (error: unknown) => {
          if (settled) return;
          settle();
          reject(error);
        },
      );
    });
  }

  /**
   * The article's pool-sizing mismatch: more transactions at once than connections means callers
   * queue for the pool, and the queue (not the database) becomes the latency.
   */
  #warnIfPoolExhausted(): void {
    const driver = this.#driver;
    const waiting = this.#waiting.size + 1;
    if (driver.checkedOut < driver.maxConnections) return;
    const now = performance.now();
    if (now - this.#poolWarnedAt < 60_000) return;
    this.#poolWarnedAt = now;
    this.#logger.warn(
      `@myrmex/tx: ${driver.checkedOut + waiting} transactions want a connection and the pool has ${driver.maxConnections}; ` +
        'callers wait in the pool queue. Size the pool to the concurrency (or cap the concurrency to the pool)',
      { poolSize: driver.maxConnections, inUse: driver.checkedOut, waiting },
    );
  }

  /** `inner` is the outermost scope's frame: beforeCommit hooks run in it, inside the transaction, as Spring's do. */
  async #commitOrRollback<T>(inner: Frame<C>, result: { value: T } | { error: unknown }): Promise<Outcome<T>> {
    const { tx, scope } = inner as Frame<C> & { tx: PhysicalTransaction<C> };
    const driver = this.#driver;
    const carry = 'error' in result ? { error: result.error, hasError: true as const } : { value: result.value, hasError: false as const };
    const rollbackIfMarked = async (): Promise<Outcome<T> | undefined> => {
      if (!tx.rollbackOnly && !scope.rollbackOnly) return undefined;
      if (!(await this.#quietRollback(tx.connection)))
        return { status: 'UNKNOWN', error: new Error('ROLLBACK failed; the connection was discarded'), hasError: true };
      if (!tx.rollbackOnly) return { status: 'ROLLED_BACK', ...carry } as Outcome<T>;
      this.#metrics.unexpectedRollbacks += 1;
      const error = new UnexpectedRollbackError(
        `transaction${tx.name ? ` ${tx.name}` : ''} rolled back because an inner scope marked it rollback-only`,
        { cause: tx.rollbackOnlyCause ?? ('error' in result ? result.error : undefined) },
      );
      return { status: 'ROLLED_BACK', error, hasError: true };
    };
    const marked = await rollbackIfMarked();
    if (marked) return marked;
    try {
      await this.#als.run(inner, () => runBeforeCommit(tx.hooks, tx.readOnly));
    } catch (error) {
      return { status: (await this.#quietRollback(tx.connection)) ? 'ROLLED_BACK' : 'UNKNOWN', error, hasError: true };
    }
    // A beforeCommit hook runs inside the transaction, so it too can mark it (a joined scope it ran failed).
    const markedByHook = await rollbackIfMarked();
    if (markedByHook) return markedByHook;
    try {
      await driver.commit(tx.connection);
    } catch (error) {
      if (error instanceof UnexpectedRollbackError) {
        this.#metrics.unexpectedRollbacks += 1;
        // fn failed with an error its rules commit for (noRollbackOn), but the database had already
        // aborted the transaction: the caller learns of the rollback and keeps the application's error.
        const reported = 'error' in result ? new UnexpectedRollbackError(error.message, { cause: result.error }) : error;
        return { status: 'ROLLED_BACK', error: reported, hasError: true };
      }
      const rolledBack = await this.#quietRollback(tx.connection);
      const known = classifyError(driver.dialect, error, { lockNotAvailable: true }) !== undefined;
      return { status: rolledBack && known ? 'ROLLED_BACK' : 'UNKNOWN', error, hasError: true };
    }
    return { status: 'COMMITTED', ...carry } as Outcome<T>;
  }

  /** ROLLBACK that never throws; false when the connection cannot be trusted any more. */
  async #quietRollback(connection: C): Promise<boolean> {
    try {
      await this.#driver.rollback(connection);
      return true;
    } catch {
      return false;
    }
  }

  #watchLeak(tx: PhysicalTransaction<C>, started: number): NodeJS.Timeout | undefined {
    if (this.#leakWarningMs === 0) return undefined;
    const stack = this.#captureStacks ? new Error('transaction began here').stack : undefined;
    const timer = setTimeout(() => {
      this.#metrics.leakWarnings += 1;
      this.#logger.warn(
        `@myrmex/tx: transaction${tx.name ? ` ${tx.name}` : ''} has been open for ${Math.round(performance.now() - started)} ms`,
        {
          name: tx.name,
          thresholdMs: this.#leakWarningMs,
          ...(stack ? { stack } : {}),
        },
      );
    }, this.#leakWarningMs);
    timer.unref();
    return timer;
  }
}

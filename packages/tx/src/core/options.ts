import { InvalidOptionsError } from './errors.js';

export const PROPAGATIONS = ['REQUIRED', 'REQUIRES_NEW', 'NESTED', 'SUPPORTS', 'NOT_SUPPORTED', 'MANDATORY', 'NEVER'] as const;
export type Propagation = (typeof PROPAGATIONS)[number];

/** Ordered weakest to strongest: a joined scope may ask for a level no stronger than the running one. */
export const ISOLATIONS = ['READ_UNCOMMITTED', 'READ_COMMITTED', 'REPEATABLE_READ', 'SERIALIZABLE'] as const;
export type Isolation = (typeof ISOLATIONS)[number];

/** An error class, or a predicate over the thrown value. */
export type ErrorMatcher = (abstract new (...args: never[]) => unknown) | ((error: unknown) => boolean);

export interface RetryPolicy {
  /** Attempts in total, the first one included. */
  readonly attempts: number;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Also retry PostgreSQL 55P03 (lock_not_available, e.g. after NOWAIT). */
  readonly lockNotAvailable?: boolean;
}

export interface TxOptions {
  readonly propagation?: Propagation;
  readonly isolation?: Isolation;
  readonly readOnly?: boolean;
  readonly timeoutMs?: number;
  readonly rollbackOn?: readonly ErrorMatcher[];
  readonly noRollbackOn?: readonly ErrorMatcher[];
  /** A number is the attempt count with the default delays. */
  readonly retry?: number | RetryPolicy;
  /** Shown in logs and leak warnings. */
  readonly name?: string;
}

export interface ResolvedRetry {
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly lockNotAvailable: boolean;
}

export interface ResolvedOptions {
  readonly propagation: Propagation;
  readonly isolation: Isolation | undefined;
  /**
   * Undefined means "not asked": a new transaction is then read-write; a scope joining a read-only
   * transaction must still ask for true, as Spring's validateExistingTransaction demands.
   */
  readonly readOnly: boolean | undefined;
  readonly timeoutMs: number | undefined;
  readonly rollbackOn: readonly ErrorMatcher[];
  readonly noRollbackOn: readonly ErrorMatcher[];
  readonly retry: ResolvedRetry | undefined;
  readonly name: string | undefined;
}

/** Node fires a timer longer than this at once (after a TimeoutOverflowWarning), so no duration may exceed it. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

const KNOWN = new Set(['propagation', 'isolation', 'readOnly', 'timeoutMs', 'rollbackOn', 'noRollbackOn', 'retry', 'name']);
export const DEFAULT_RETRY_DELAYS = { baseDelayMs: 10, maxDelayMs: 1000 } as const;

function positiveInteger(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new InvalidOptionsError(field, `must be a positive integer, got ${describe(value)}`);
  }
  return value;
}

function nonNegative(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidOptionsError(field, `must be a finite number >= 0, got ${describe(value)}`);
  }
  return atMostTimer(value, field);
}

function atMostTimer(value: number, field: string): number {
  if (value > MAX_TIMER_MS) throw new InvalidOptionsError(field, `must be at most ${MAX_TIMER_MS} ms (Node's longest timer), got ${value}`);
  return value;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  return String(value);
}

function matchers(value: unknown, field: string): readonly ErrorMatcher[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new InvalidOptionsError(field, 'must be an array of error classes or predicates');
  value.forEach((item, index) => {
    if (typeof item !== 'function')
      throw new InvalidOptionsError(`${field}[${index}]`, `must be an error class or a predicate, got ${describe(item)}`);
  });
  return value as ErrorMatcher[];
}

function retryOf(value: unknown): ResolvedRetry | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number') return { attempts: positiveInteger(value, 'retry'), ...DEFAULT_RETRY_DELAYS, lockNotAvailable: false };
  if (typeof value !== 'object' || value === null)
    throw new InvalidOptionsError('retry', 'must be an attempt count or { attempts, baseDelayMs?, maxDelayMs?, lockNotAvailable? }');
  const policy = value as Record<string, unknown>;
  for (const key of Object.keys(policy)) {
    if (!['attempts', 'baseDelayMs', 'maxDelayMs', 'lockNotAvailable'].includes(key))
      throw new InvalidOptionsError(`retry.${key}`, 'is not a retry option');
  }
  const baseDelayMs =
    policy.baseDelayMs === undefined ? DEFAULT_RETRY_DELAYS.baseDelayMs : nonNegative(policy.baseDelayMs, 'retry.baseDelayMs');
  const maxDelayMs =
    policy.maxDelayMs === undefined
      ? Math.max(DEFAULT_RETRY_DELAYS.maxDelayMs, baseDelayMs)
      : nonNegative(policy.maxDelayMs, 'retry.maxDelayMs');
  if (maxDelayMs < baseDelayMs)
    throw new InvalidOptionsError('retry.maxDelayMs', `must be >= retry.baseDelayMs (${baseDelayMs}), got ${maxDelayMs}`);
  if (policy.lockNotAvailable !== undefined && typeof policy.lockNotAvailable !== 'boolean')
    throw new InvalidOptionsError('retry.lockNotAvailable', 'must be a boolean');
  return {
    attempts: positiveInteger(policy.attempts, 'retry.attempts'),
    baseDelayMs,
    maxDelayMs,
    lockNotAvailable: policy.lockNotAvailable === true,
  };
}

/** Checks every field and fills defaults; a bad field throws InvalidOptionsError naming it. */
export function resolveOptions(options: TxOptions | undefined): ResolvedOptions {
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null) throw new InvalidOptionsError('options', 'must be an object');
  for (const key of Object.keys(options)) if (!KNOWN.has(key)) throw new InvalidOptionsError(key, 'is not a transaction option');
  const { propagation = 'REQUIRED', isolation, readOnly, timeoutMs, name } = options;
  if (!PROPAGATIONS.includes(propagation))
    throw new InvalidOptionsError('propagation', `must be one of ${PROPAGATIONS.join(', ')}, got ${describe(propagation)}`);
  if (isolation !== undefined && !ISOLATIONS.includes(isolation))
    throw new InvalidOptionsError('isolation', `must be one of ${ISOLATIONS.join(', ')}, got ${describe(isolation)}`);
  if (readOnly !== undefined && typeof readOnly !== 'boolean')
    throw new InvalidOptionsError('readOnly', `must be a boolean, got ${describe(readOnly)}`);
  if (timeoutMs !== undefined) atMostTimer(positiveInteger(timeoutMs, 'timeoutMs'), 'timeoutMs');
  if (name !== undefined && typeof name !== 'string') throw new InvalidOptionsError('name', 'must be a string');
  return {
    propagation,
    isolation,
    readOnly,
    timeoutMs,
    rollbackOn: matchers(options.rollbackOn, 'rollbackOn'),
    noRollbackOn: matchers(options.noRollbackOn, 'noRollbackOn'),
    retry: retryOf(options.retry),
    name,
  };
}

import { fullJitter } from '@myrmex/backoff';
import { OptimisticLockError } from './errors.js';
import type { ResolvedRetry } from './options.js';

export type Dialect = 'postgres' | 'mysql' | 'sqlite';

/** Why an attempt may be retried; the metric label and the entry in RetriesExhaustedError. */
export type RetryCause = 'serialization' | 'deadlock' | 'lock-timeout' | 'lock-not-available' | 'busy' | 'optimistic-lock';

const POSTGRES: Record<string, RetryCause> = { '40001': 'serialization', '40P01': 'deadlock', '55P03': 'lock-not-available' };
// 1020 is MariaDB's "record has changed since last read" under innodb_snapshot_isolation: a serialization failure.
const MYSQL: Record<number, RetryCause> = { 1213: 'deadlock', 1205: 'lock-timeout', 1020: 'serialization' };

function ownCause(dialect: Dialect, error: object): RetryCause | undefined {
  if (error instanceof OptimisticLockError) return 'optimistic-lock';
  const { code, errno } = error as { code?: unknown; errno?: unknown };
  if (dialect === 'postgres' && typeof code === 'string') return POSTGRES[code];
  if (dialect === 'mysql' && typeof errno === 'number') return MYSQL[errno];
  if (dialect === 'sqlite' && typeof code === 'string' && code.startsWith('SQLITE_BUSY')) return 'busy';
  return undefined;
}

/**
 * The retry cause of an error, looking through `cause` chains (drivers and callers wrap errors).
 * 55P03 only counts when the policy asks for it: NOWAIT usually means "fail fast", not "try again".
 */
export function classifyError(dialect: Dialect, error: unknown, policy?: Pick<ResolvedRetry, 'lockNotAvailable'>): RetryCause | undefined {
  const seen = new Set<unknown>();
  let current = error;
  while (typeof current === 'object' && current !== null && !seen.has(current)) {
    seen.add(current);
    const cause = ownCause(dialect, current);
    if (cause === 'lock-not-available' && policy?.lockNotAvailable !== true) return undefined;
    if (cause !== undefined) return cause;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Capped exponential backoff with full jitter (@myrmex/backoff): uniform in [0, min(max, base * 2^(attempt-1))]. */
export function backoffDelay(
  attempt: number,
  policy: Pick<ResolvedRetry, 'baseDelayMs' | 'maxDelayMs'>,
  random: () => number = Math.random,
): number {
  return fullJitter(Math.max(0, attempt - 1), { baseMs: policy.baseDelayMs, capMs: policy.maxDelayMs }, random);
}

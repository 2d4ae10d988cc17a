import {
  type CompletionStatus,
  type HookErrorReporter,
  runAfterCommit,
  runAfterCompletion,
  runAfterRollback,
  type Synchronization,
} from '../core/hooks.js';
import { recordDuration, type TransactionMetrics } from '../core/metrics.js';

/** How a physical transaction ended, and what its caller gets: the value, or the error to throw. */
export type Outcome<T> =
  | { readonly status: 'COMMITTED'; readonly value: T; readonly error?: undefined; readonly hasError: false }
  | { readonly status: 'COMMITTED'; readonly value?: undefined; readonly error: unknown; readonly hasError: true }
  | { readonly status: 'ROLLED_BACK' | 'UNKNOWN'; readonly error: unknown; readonly hasError: true }
  | { readonly status: 'ROLLED_BACK'; readonly value: T; readonly hasError: false };

/**
 * Counts the outcome and runs the after-completion hooks (the connection is already back in the
 * pool, so hooks that start transactions cannot exhaust it), then returns the value or throws.
 */
export async function settle<T>(
  outcome: Outcome<T>,
  hooks: readonly Synchronization[],
  metrics: TransactionMetrics,
  elapsedMs: number,
  report: HookErrorReporter,
): Promise<T> {
  if (outcome.status === 'COMMITTED') {
    metrics.commits += 1;
    recordDuration(metrics.durations.committed, elapsedMs);
  } else {
    metrics.rollbacks += 1;
    recordDuration(metrics.durations.rolledBack, elapsedMs);
  }
  return complete(outcome, hooks, report);
}

/** Runs the after-completion hooks of an outcome, then returns its value or throws its error. */
export async function complete<T>(outcome: Outcome<T>, hooks: readonly Synchronization[], report: HookErrorReporter): Promise<T> {
  if (outcome.status === 'COMMITTED') {
    try {
      await runAfterCommit(hooks);
    } finally {
      await runAfterCompletion(hooks, 'COMMITTED', report);
    }
  } else {
    if (outcome.status === 'ROLLED_BACK') await runAfterRollback(hooks, report);
    await runAfterCompletion(hooks, outcome.status satisfies CompletionStatus, report);
  }
  if (outcome.hasError) throw outcome.error;
  return outcome.value as T;
}

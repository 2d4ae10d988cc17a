export type CompletionStatus = 'COMMITTED' | 'ROLLED_BACK' | 'UNKNOWN';

/**
 * Spring's TransactionSynchronization, async. For each transaction, hooks run in registration order,
 * each awaited before the next:
 * - beforeCommit(readOnly): only when a commit is about to happen; an error vetoes it: the
 *   transaction rolls back and the caller gets that error.
 * - afterCommit: after a successful commit; the first error stops the remaining afterCommit hooks
 *   and reaches the caller (the data is committed), afterCompletion still runs.
 * - afterRollback, afterCompletion(status): errors are reported to the manager's logger and swallowed,
 *   since the outcome is already decided.
 */
export interface Synchronization {
  beforeCommit?(readOnly: boolean): unknown;
  afterCommit?(): unknown;
  afterRollback?(): unknown;
  afterCompletion?(status: CompletionStatus): unknown;
}

export type HookErrorReporter = (hook: keyof Synchronization, error: unknown) => void;

export async function runBeforeCommit(hooks: readonly Synchronization[], readOnly: boolean): Promise<void> {
  // Hooks may register further hooks (e.g. a beforeCommit that enqueues an afterCommit); index loop sees them.
  for (let i = 0; i < hooks.length; i++) await hooks[i]?.beforeCommit?.(readOnly);
}

export async function runAfterCommit(hooks: readonly Synchronization[]): Promise<void> {
  for (let i = 0; i < hooks.length; i++) await hooks[i]?.afterCommit?.();
}

export async function runAfterRollback(hooks: readonly Synchronization[], report: HookErrorReporter): Promise<void> {
  for (let i = 0; i < hooks.length; i++) {
    try {
      await hooks[i]?.afterRollback?.();
    } catch (error) {
      report('afterRollback', error);
    }
  }
}

export async function runAfterCompletion(
  hooks: readonly Synchronization[],
  status: CompletionStatus,
  report: HookErrorReporter,
): Promise<void> {
  for (let i = 0; i < hooks.length; i++) {
    try {
      await hooks[i]?.afterCompletion?.(status);
    } catch (error) {
      report('afterCompletion', error);
    }
  }
}

export function validateSynchronization(value: unknown): Synchronization {
  if (typeof value !== 'object' || value === null) throw new TypeError('synchronization must be an object with hook functions');
  for (const [key, hook] of Object.entries(value)) {
    if (!['beforeCommit', 'afterCommit', 'afterRollback', 'afterCompletion'].includes(key)) {
      throw new TypeError(`synchronization.${key} is not a hook (beforeCommit, afterCommit, afterRollback, afterCompletion)`);
    }
    if (typeof hook !== 'function') throw new TypeError(`synchronization.${key} must be a function`);
  }
  return value as Synchronization;
}

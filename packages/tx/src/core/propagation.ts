import { IllegalTransactionStateError } from './errors.js';
import type { Isolation, ResolvedOptions } from './options.js';

/** What a new scope needs to know about the physical transaction already running in its context. */
export interface RunningTransaction {
  /** Undefined when it runs at the database's default level. */
  readonly isolation: Isolation | undefined;
  readonly readOnly: boolean;
}

/**
 * - begin: a new physical transaction (suspending the running one, if any, on its own connection);
 * - join: take part in the running transaction;
 * - savepoint: a nested transaction inside the running one;
 * - none: run without a transaction (suspending the running one, if any).
 */
export type Decision =
  | { readonly kind: 'begin'; readonly suspends: boolean }
  | { readonly kind: 'join' }
  | { readonly kind: 'savepoint' }
  | { readonly kind: 'none'; readonly suspends: boolean }
  | { readonly kind: 'fail'; readonly error: Error };

/** Spring's propagation table. Pure: the manager carries the decision out. */
export function decide(running: RunningTransaction | undefined, options: ResolvedOptions): Decision {
  const { propagation } = options;
  if (running !== undefined) {
    switch (propagation) {
      case 'NEVER':
        return fail(`propagation NEVER found a running transaction${named(options)}`);
      case 'NOT_SUPPORTED':
        return options.retry ? retryWithoutTransaction(options) : { kind: 'none', suspends: true };
      case 'REQUIRES_NEW':
        return { kind: 'begin', suspends: true };
      // A retry on a scope that joins is ignored (the manager logs it): only the outermost boundary
      // can roll back and start again, and composable code must be callable inside a transaction.
      case 'NESTED':
        return { kind: 'savepoint' };
      default:
        return { kind: 'join' };
    }
  }
  switch (propagation) {
    case 'MANDATORY':
      return fail(`propagation MANDATORY found no running transaction${named(options)}`);
    case 'SUPPORTS':
    case 'NOT_SUPPORTED':
    case 'NEVER':
      return options.retry ? retryWithoutTransaction(options) : { kind: 'none', suspends: false };
    default:
      return { kind: 'begin', suspends: false };
  }
}

/**
 * Options a joined (or nested) scope asks for that the running transaction does not provide.
 * Mirrors Spring's validateExistingTransaction, plus timeouts: a deadline belongs to the
 * physical transaction, so a scope that joins cannot set its own.
 */
export function joinConflicts(running: RunningTransaction, options: ResolvedOptions): string[] {
  const conflicts: string[] = [];
  if (options.isolation !== undefined && options.isolation !== running.isolation) {
    conflicts.push(`isolation ${options.isolation} asked, the running transaction uses ${running.isolation ?? 'the database default'}`);
  }
  if (running.readOnly && options.readOnly !== true) {
    conflicts.push('the running transaction is read-only and this scope is not marked readOnly');
  }
  if (options.timeoutMs !== undefined) {
    conflicts.push(`timeoutMs ${options.timeoutMs} asked, but a joined scope runs under the running transaction's deadline`);
  }
  return conflicts;
}

function named(options: ResolvedOptions): string {
  return options.name === undefined ? '' : ` (scope ${options.name})`;
}

function fail(message: string): Decision {
  return { kind: 'fail', error: new IllegalTransactionStateError(message) };
}

function retryWithoutTransaction(options: ResolvedOptions): Decision {
  return fail(`retry configured on a ${options.propagation} scope that runs without a transaction${named(options)}`);
}

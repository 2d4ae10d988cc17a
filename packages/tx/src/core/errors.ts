/** Base class: every error this package raises on its own account. */
export class TransactionError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A transaction option is malformed; `field` names it. */
export class InvalidOptionsError extends TransactionError {
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`invalid transaction option ${field}: ${problem}`);
  }
}

/** The propagation mode cannot run in the current state (MANDATORY without, NEVER with a transaction, ...). */
export class IllegalTransactionStateError extends TransactionError {}

/** A joined scope asked for something the running transaction does not give (isolation, read-only, retry, timeout). */
export class TransactionOptionsConflictError extends IllegalTransactionStateError {
  constructor(readonly conflicts: readonly string[]) {
    super(`options of the joined scope conflict with the running transaction: ${conflicts.join('; ')}`);
  }
}

/** The transaction was marked rollback-only by an inner scope, so the commit the caller asked for rolled back. */
export class UnexpectedRollbackError extends TransactionError {}

/**
 * The transaction ran past `timeoutMs`; it was rolled back and its connection discarded. Or, with
 * `waitingForConnection`, the deadline passed while it still waited for a pool connection.
 */
export class TransactionTimeoutError extends TransactionError {
  readonly waitingForConnection: boolean;
  constructor(
    readonly timeoutMs: number,
    options?: ErrorOptions & { readonly waitingForConnection?: boolean },
  ) {
    super(
      options?.waitingForConnection
        ? `transaction exceeded its timeout of ${timeoutMs} ms waiting for a pool connection; it never began`
        : `transaction exceeded its timeout of ${timeoutMs} ms and was rolled back`,
      options,
    );
    this.waitingForConnection = options?.waitingForConnection === true;
  }
}

/** Starting another physical transaction would wait for a connection while holding one: refused instead of deadlocking. */
export class PoolExhaustedError extends TransactionError {}

/** `updateWithVersion` matched no row: someone else changed (or deleted) it since it was read. Retryable. */
export class OptimisticLockError extends TransactionError {
  constructor(
    readonly table: string,
    readonly id: unknown,
    readonly expectedVersion: number,
  ) {
    super(`optimistic lock failed on ${table} id=${String(id)}: version ${expectedVersion} is no longer current`);
  }
}

export interface AttemptFailure {
  readonly attempt: number;
  readonly cause: string;
  readonly error: unknown;
  /** The pause before the next attempt; 0 after the last one. */
  readonly delayMs: number;
}

/** Every attempt failed with a retryable error; `attempts` holds each one's cause in order. */
export class RetriesExhaustedError extends TransactionError {
  readonly errors: readonly unknown[];
  constructor(readonly attempts: readonly AttemptFailure[]) {
    const last = attempts[attempts.length - 1];
    super(`transaction failed after ${attempts.length} attempts; causes: ${attempts.map((a) => a.cause).join(', ')}`, {
      cause: last?.error,
    });
    this.errors = attempts.map((a) => a.error);
  }
}

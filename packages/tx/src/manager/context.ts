import type { Synchronization } from '../core/hooks.js';
import type { Isolation } from '../core/options.js';

/** One physical database transaction: one connection, BEGIN to COMMIT or ROLLBACK. */
export interface PhysicalTransaction<C> {
  readonly connection: C;
  readonly name: string | undefined;
  readonly isolation: Isolation | undefined;
  readonly readOnly: boolean;
  readonly timeoutMs: number | undefined;
  readonly hooks: Synchronization[];
  /** Set by a participating scope that failed: the commit must turn into a rollback. */
  rollbackOnly: boolean;
  rollbackOnlyCause: unknown;
  savepoints: number;
  /** The deadline passed and the connection is being discarded. */
  timedOut: boolean;
  /** Committed or rolled back, and the connection returned: code that outlived the transaction must not use it. */
  ended: boolean;
}

export type ScopeKind = 'new' | 'joined' | 'nested' | 'none';

/** A logical scope: one `run` call. Several scopes can share one physical transaction. */
export interface Scope {
  readonly kind: ScopeKind;
  /** setRollbackOnly() on this scope. */
  rollbackOnly: boolean;
}

/** What AsyncLocalStorage carries. */
export interface Frame<C> {
  /** Undefined while suspended (NOT_SUPPORTED) or outside any transaction. */
  readonly tx: PhysicalTransaction<C> | undefined;
  /** The "empty" transaction a SUPPORTS, NOT_SUPPORTED or NEVER scope runs in when there is no physical one. */
  readonly empty?: EmptyTransaction;
  readonly scope: Scope;
  /** Physical transactions this async context holds open, suspended ones included. */
  readonly held: number;
  /** Whether one of them is a write transaction (matters for single-writer SQLite). */
  readonly writeHeld: boolean;
}

/** Like Spring's default SYNCHRONIZATION_ALWAYS: hooks registered without a physical transaction run when the outermost empty scope ends. */
export interface EmptyTransaction {
  readonly hooks: Synchronization[];
  /** Its hooks have run; later registrations would never run. */
  ended: boolean;
}

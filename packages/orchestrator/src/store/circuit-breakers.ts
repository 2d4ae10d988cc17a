import type { BreakerState } from '../domain/circuit-breaker.js';

/**
 * The circuit breakers' state, shared by every queen on the database (migration 0015). A row
 * carries a revision; `compareAndSet` writes only over the revision its caller read, so two queens
 * deciding from the same state (two would-be probes) write once and the other re-reads.
 */
export interface CircuitBreakerStore {
  /** The host's state and revision; undefined when nothing was ever recorded for it (closed). */
  read(host: string): Promise<{ readonly state: BreakerState; readonly revision: number } | undefined>;
  /** Writes `next` if the row is still at `revision` (undefined: only if there is no row yet); true when written. */
  compareAndSet(next: BreakerState, revision: number | undefined): Promise<boolean>;
  /** Every host with a state, most recently changed first. */
  list(): Promise<readonly BreakerState[]>;
}

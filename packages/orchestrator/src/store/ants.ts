import type { AntInfo } from '../domain/types.js';

/**
 * The ant registry as every queen shares it (issue 12): one row per ant, written by the queen it
 * is connected to on register and on every heartbeat, read by all. A row is "connected" while its
 * `expiresAt` is ahead, so a queen killed with -9 leaves rows that lapse on their own.
 */
export interface AntDirectory {
  /**
   * Upserts the ant. `fresh` (a new connection) clears an operator's drain request left from an
   * earlier run. Returns whether a drain has been requested for it (by any queen).
   */
  saveAnt(ant: AntInfo, options?: { readonly fresh?: boolean }): Promise<{ readonly drainRequested: boolean }>;
  /** Every ant ever registered, connected or not (`connected` computed against `now`, default the clock). */
  ants(now?: number): Promise<readonly AntInfo[]>;
  /** Marks the ant disconnected at `at`, unless another queen has registered it since. */
  antGone(id: string, queen: string, at: number): Promise<void>;
  /** Records a request that the ant drain; false when no ant has that id. */
  requestAntDrain(id: string): Promise<boolean>;
}

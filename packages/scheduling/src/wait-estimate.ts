/** What the estimate is made from; all of it is in a snapshot. */
export interface WaitInputs {
  readonly now: number;
  /** Jobs that go before this one in the queue's order. */
  readonly ahead: number;
  /** Attempts running now. */
  readonly running: number;
  /** How many jobs like this one can run at once (ants, or capacity / the job's request). */
  readonly slots: number;
  /** Mean runtime of the jobs ahead, ms (history). */
  readonly meanRuntime: number;
  /** The job's own earliest start (scheduled_at), if later than now. */
  readonly notBefore?: number;
}

/**
 * Estimated wait before a job starts. Formicary counts 70% of running jobs as still ahead; here a running
 * job is, on average, half done (its residual life when starts are spread evenly), and the jobs ahead drain
 * `slots` at a time. The simulator measures this estimate's error against what happened.
 */
export function estimateWait({ now, ahead, running, slots, meanRuntime, notBefore }: WaitInputs): number {
  if (slots <= 0 || !Number.isFinite(meanRuntime)) return Number.POSITIVE_INFINITY;
  const busy = Math.min(running, slots);
  // Until a slot frees: nothing if one is idle now, else about half a runtime.
  const firstFree = busy < slots ? 0 : meanRuntime / 2;
  const queued = Math.max(0, ahead - Math.max(0, slots - busy));
  const estimate = queued === 0 ? firstFree : firstFree + Math.ceil(queued / slots) * meanRuntime;
  return Math.max(estimate, notBefore !== undefined ? notBefore - now : 0);
}

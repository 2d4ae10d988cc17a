import type { RetryCause } from './retry.js';

export interface DurationSummary {
  count: number;
  totalMs: number;
  maxMs: number;
}

export interface TransactionMetrics {
  /** Physical transactions begun (each retry attempt counts). */
  begun: number;
  commits: number;
  rollbacks: number;
  /** Commits that turned into rollbacks because an inner scope marked the transaction rollback-only. */
  unexpectedRollbacks: number;
  timeouts: number;
  savepointRollbacks: number;
  retries: Partial<Record<RetryCause, number>>;
  retriesExhausted: number;
  leakWarnings: number;
  /** Physical transactions open right now. */
  open: number;
  durations: { committed: DurationSummary; rolledBack: DurationSummary };
}

function summary(): DurationSummary {
  return { count: 0, totalMs: 0, maxMs: 0 };
}

export function emptyMetrics(): TransactionMetrics {
  return {
    begun: 0,
    commits: 0,
    rollbacks: 0,
    unexpectedRollbacks: 0,
    timeouts: 0,
    savepointRollbacks: 0,
    retries: {},
    retriesExhausted: 0,
    leakWarnings: 0,
    open: 0,
    durations: { committed: summary(), rolledBack: summary() },
  };
}

export function recordDuration(target: DurationSummary, ms: number): void {
  target.count += 1;
  target.totalMs += ms;
  if (ms > target.maxMs) target.maxMs = ms;
}

export function cloneMetrics(metrics: TransactionMetrics): TransactionMetrics {
  return structuredClone(metrics);
}

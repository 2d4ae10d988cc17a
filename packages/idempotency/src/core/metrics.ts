/** Counters an operator watches: key reuse hints at client bugs, stale completions at leases too short. */
export interface IdempotencyMetrics {
  executions: number;
  reclaims: number;
  replays: number;
  inProgress: number;
  fingerprintMismatches: number;
  missingKeys: number;
  malformedKeys: number;
  released: number;
  notStoredTooLarge: number;
  leasesLost: number;
  staleCompletions: number;
  storeErrors: number;
  failOpen: number;
}

export function emptyMetrics(): IdempotencyMetrics {
  return {
    executions: 0,
    reclaims: 0,
    replays: 0,
    inProgress: 0,
    fingerprintMismatches: 0,
    missingKeys: 0,
    malformedKeys: 0,
    released: 0,
    notStoredTooLarge: 0,
    leasesLost: 0,
    staleCompletions: 0,
    storeErrors: 0,
    failOpen: 0,
  };
}

/** The subset of a pino (or console-like) logger the engine writes to. */
export interface IdempotencyLogger {
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export const consoleLogger: IdempotencyLogger = {
  warn: (details, message) => console.warn(`[idempotency] ${message}`, details),
  error: (details, message) => console.error(`[idempotency] ${message}`, details),
};

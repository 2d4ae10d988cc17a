import type { IdempotencyLogger } from './metrics.js';
import type { IdempotencyStore } from './types.js';

export interface SweeperOptions {
  readonly store: IdempotencyStore;
  /** Default one minute. */
  readonly intervalMs?: number;
  readonly clock?: () => number;
  readonly logger?: Pick<IdempotencyLogger, 'error'>;
  /** Called after every sweep with how many records went. */
  readonly onSweep?: (purged: number) => void;
}

export interface Sweeper {
  /** Runs one sweep now; resolves with the number of purged records. */
  sweepNow(): Promise<number>;
  stop(): void;
}

/**
 * Deletes records past their retention on a timer. Reads already ignore expired records, so the
 * sweeper only reclaims space; a slow or failed sweep never changes what clients see.
 */
export function startSweeper(options: SweeperOptions): Sweeper {
  if (options === null || typeof options !== 'object' || typeof options.store?.sweep !== 'function') {
    throw new TypeError('startSweeper: options.store must be an IdempotencyStore');
  }
  const intervalMs = options.intervalMs ?? 60_000;
  if (!Number.isSafeInteger(intervalMs) || intervalMs <= 0)
    throw new RangeError(`startSweeper: options.intervalMs must be a positive integer, got ${intervalMs}`);
  const clock = options.clock ?? Date.now;
  let running: Promise<number> | undefined;
  const sweepNow = (): Promise<number> => {
    running ??= options.store
      .sweep(clock())
      .then((purged) => {
        options.onSweep?.(purged);
        return purged;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const timer = setInterval(() => {
    sweepNow().catch((error: unknown) => options.logger?.error({ error: String(error) }, 'idempotency sweep failed'));
  }, intervalMs);
  timer.unref();
  return { sweepNow, stop: () => clearInterval(timer) };
}

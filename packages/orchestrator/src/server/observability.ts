import type { Logger } from 'pino';
import { instrumentStore, logTransitions, OrchestratorMetrics } from '../observability/index.js';
import type { QueenService } from '../queen/service.js';
import { openStoreSync } from '../store/index.js';

export interface Observed {
  readonly metrics: OrchestratorMetrics;
  close(): void;
}

/**
 * The queen's SQLite store with every operation timed. The queen needs the store before metrics can
 * read the queen, so `observe` starts the metrics (and transition logs) once the queen exists.
 */
export function openObservedStore(dbPath: string) {
  const raw = openStoreSync(dbPath);
  let metrics: OrchestratorMetrics | undefined;
  const store = instrumentStore(raw, { observeStore: (operation, seconds, failed) => metrics?.observeStore(operation, seconds, failed) });
  const observe = (queen: QueenService, logger: Logger): Observed => {
    const started = new OrchestratorMetrics({ queen, queue: raw });
    metrics = started;
    const stopLogging = logTransitions(queen, logger);
    return {
      metrics: started,
      close: () => {
        stopLogging();
        started.close();
      },
    };
  };
  return { store, observe };
}

import type { Logger } from 'pino';
import type { TimelineEvent } from '../domain/types.js';
import {
  instrumentStore,
  JobTracing,
  logTransitions,
  OrchestratorMetrics,
  submittedTraceId,
  tracingEnabled,
} from '../observability/index.js';
import type { QueenService } from '../queen/service.js';
import { openStoreSync } from '../store/index.js';

export interface Observed {
  readonly metrics: OrchestratorMetrics;
  close(): Promise<void>;
}

/**
 * The queen's store with every operation timed and, when OTLP is configured, the hook that traces
 * each attempt (`queenHooks`, for Queen.open). The queen needs both before metrics and tracing can
 * read the queen, so `observe` starts them once it exists.
 */
export function openObservedStore(dbPath: string, env: NodeJS.ProcessEnv = process.env) {
  const raw = openStoreSync(dbPath);
  let metrics: OrchestratorMetrics | undefined;
  const store = instrumentStore(raw, { observeStore: (operation, seconds, failed) => metrics?.observeStore(operation, seconds, failed) });
  const tracing = tracingEnabled(env) ? new JobTracing() : undefined;
  // Every attempt's spec passes through tracing on its way to an ant, so remote ants' tasks are traced as embedded ones are.
  const queenHooks = tracing ? { prepareSpec: tracing.prepare.bind(tracing) } : {};
  const observe = (queen: QueenService, logger: Logger): Observed => {
    const started = new OrchestratorMetrics({ queen, queue: raw });
    metrics = started;
    tracing?.attach(queen);
    const stopLogging = logTransitions(queen, logger);
    return {
      metrics: started,
      close: async () => {
        stopLogging();
        started.close();
        await tracing?.close();
      },
    };
  };
  // A transition's trace: the job's span once tracing opened it, else (at submission) the submitter's traceparent.
  const traceId = (t: TimelineEvent) =>
    tracing?.traceId(t.jobId) ?? (t.from === undefined && t.taskType === undefined ? submittedTraceId() : undefined);
  return { store, queenHooks, observe, traceId };
}

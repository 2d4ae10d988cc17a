import type { TimelineEvent } from '../domain/types.js';

/** The outbox table of the queen's lifecycle events (created by migration 0005-events). */
export const LIFECYCLE_TABLE = 'myrmex_events';
/** Where lifecycle events go unless `--events` names another topic: one topic, so a job's events share one order. */
export const DEFAULT_LIFECYCLE_TOPIC = 'myrmex.events';

/** What a consumer receives as an event's payload. */
export interface LifecyclePayload {
  /** The transition's position in the queen's timeline: increases along each job's transitions. */
  readonly seq: number;
  readonly jobId: string;
  readonly jobType: string;
  /** Absent for job-level transitions. */
  readonly taskType?: string;
  readonly from?: string;
  /** The new state. */
  readonly state: string;
  readonly reason?: string;
  /** ISO time of the transition. */
  readonly at: string;
  /** The job's W3C trace id, when the queen knows it at the transition (OpenTelemetry on, or a submitter's traceparent). */
  readonly traceId?: string;
}

/** The outbox events of some transitions, in the order given; the event id is stable per transition. */
export function lifecycleEvents(
  transitions: readonly TimelineEvent[],
  jobTypes: ReadonlyMap<string, string>,
  topic: string,
  traceId: (transition: TimelineEvent) => string | undefined = () => undefined,
) {
  return transitions.map((t) => {
    const trace = traceId(t);
    const payload: LifecyclePayload = {
      seq: t.seq,
      jobId: t.jobId,
      jobType: jobTypes.get(t.jobId) ?? 'unknown',
      ...(t.taskType === undefined ? {} : { taskType: t.taskType }),
      ...(t.from === undefined ? {} : { from: t.from }),
      state: t.to,
      ...(t.reason === undefined ? {} : { reason: t.reason }),
      at: t.at.toISOString(),
      ...(trace === undefined ? {} : { traceId: trace }),
    };
    return {
      id: `${t.jobId}:${t.seq}`,
      aggregateType: 'job',
      aggregateId: t.jobId,
      type: t.taskType === undefined ? 'job.transition' : 'task.transition',
      topic,
      payload,
    };
  });
}

/** An attempt that ended, with what the scheduler charges it to: its job's type and params (the tenant). */
export interface EndedAttempt {
  readonly jobId: string;
  readonly taskType: string;
  readonly attempt: number;
  readonly jobType: string;
  readonly version: number;
  readonly params: Readonly<Record<string, unknown>>;
  /** The job's organisation: its usage is charged to that tenant (issue 17). */
  readonly org?: string;
  readonly state: string;
  readonly startedAt: number;
  readonly endedAt: number;
}

/**
 * What the scheduling framework reads beyond the queue (issue 13): the attempts that ended lately, for runtime
 * history per job type (SJF, stragglers, the wait estimate) and usage per tenant over a quota period.
 */
export interface SchedulingReads {
  /** Attempts that ended at or after `since` (epoch ms), newest first, at most `limit`. */
  endedAttempts(since: number, limit: number): Promise<readonly EndedAttempt[]>;
}

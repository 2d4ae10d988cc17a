import type { JobDefinition } from '../definition/model.js';

/**
 * The queen's public face: what the REST API and embedding applications call.
 * The engine implements it; the API layer only translates HTTP to these calls.
 */

export const JOB_STATES = ['PENDING', 'READY', 'EXECUTING', 'COMPLETED', 'FAILED', 'CANCELLED', 'PAUSED'] as const;
export type JobState = (typeof JOB_STATES)[number];
export const TASK_STATES = [...JOB_STATES, 'SKIPPED'] as const;
export type TaskState = (typeof TASK_STATES)[number];
export const TERMINAL_JOB_STATES: readonly JobState[] = ['COMPLETED', 'FAILED', 'CANCELLED'];

export interface DefinitionVersion {
  readonly jobType: string;
  readonly version: number;
  readonly definition: JobDefinition;
  /** The text as applied (YAML or JSON), kept so users see what they wrote. */
  readonly source: string;
  readonly createdAt: Date;
  readonly disabled: boolean;
}

export interface ApplyResult {
  readonly jobType: string;
  readonly version: number;
  /** False when the applied definition equals the latest version (no new version made). */
  readonly created: boolean;
}

export interface SubmitRequest {
  readonly jobType: string;
  readonly params?: Readonly<Record<string, unknown>>;
  readonly priority?: number;
  readonly scheduledAt?: Date;
}

export interface JobSummary {
  readonly id: string;
  readonly jobType: string;
  readonly version: number;
  readonly state: JobState;
  readonly priority: number;
  readonly params: Readonly<Record<string, unknown>>;
  readonly submittedAt: Date;
  readonly scheduledAt: Date;
  readonly startedAt?: Date;
  readonly endedAt?: Date;
  readonly retry: number;
  readonly reason?: string;
}

export interface TaskAttempt {
  readonly attempt: number;
  readonly state: TaskState;
  readonly exitCode?: number;
  readonly startedAt: Date;
  readonly endedAt?: Date;
  readonly reason?: string;
  readonly antId?: string;
}

export interface TaskDetail {
  readonly taskType: string;
  readonly state: TaskState;
  readonly exitCode?: number;
  readonly outputs: Readonly<Record<string, string>>;
  readonly attempts: readonly TaskAttempt[];
  readonly reason?: string;
}

export interface TimelineEvent {
  readonly seq: number;
  readonly jobId: string;
  /** Absent for job-level transitions. */
  readonly taskType?: string;
  readonly from?: string;
  readonly to: string;
  readonly at: Date;
  readonly reason?: string;
}

export interface JobDetail extends JobSummary {
  readonly tasks: readonly TaskDetail[];
  readonly timeline: readonly TimelineEvent[];
}

export interface LogLine {
  readonly seq: number;
  readonly jobId: string;
  readonly taskType: string;
  readonly attempt: number;
  readonly stream: 'stdout' | 'stderr' | 'system';
  readonly at: Date;
  readonly text: string;
}

export interface JobQuery {
  readonly state?: JobState;
  readonly jobType?: string;
  readonly limit?: number;
  readonly offset?: number;
}

export interface Page<T> {
  readonly items: readonly T[];
  readonly total: number;
  readonly limit: number;
  readonly offset: number;
}

export interface AntInfo {
  readonly id: string;
  readonly methods: readonly string[];
  readonly tags: readonly string[];
  readonly capacity: number;
  readonly running: number;
  readonly lastSeenAt: Date;
}

export interface QueenService {
  /** Validates and stores a definition (YAML or JSON text); a changed definition becomes a new version. */
  applyDefinition(source: string, fileName?: string): Promise<ApplyResult>;
  listDefinitions(): Promise<readonly DefinitionVersion[]>;
  /** Every version of one job type, newest first; empty when unknown. */
  definitionVersions(jobType: string): Promise<readonly DefinitionVersion[]>;
  /** Disabled types accept no new requests; running ones finish. */
  disableDefinition(jobType: string): Promise<void>;

  submit(request: SubmitRequest): Promise<JobSummary>;
  listJobs(query: JobQuery): Promise<Page<JobSummary>>;
  getJob(id: string): Promise<JobDetail | undefined>;
  cancel(id: string, reason?: string): Promise<JobSummary>;
  restart(id: string, options?: { readonly hard?: boolean }): Promise<JobSummary>;
  /** READY or EXECUTING -> PAUSED: nothing new starts; running tasks finish. The job timeout keeps counting. */
  pause(id: string, reason?: string): Promise<JobSummary>;
  /** PAUSED -> READY or EXECUTING (the state it was paused in): its tasks start again. */
  resume(id: string): Promise<JobSummary>;

  /** Log lines after `afterSeq`, oldest first. */
  logs(
    jobId: string,
    options?: { readonly taskType?: string; readonly afterSeq?: number; readonly limit?: number },
  ): Promise<readonly LogLine[]>;
  /** Calls `onLine` for each new line until the returned function is called or the job ends (then `onEnd`). */
  followLogs(
    jobId: string,
    options: { readonly taskType?: string; readonly afterSeq?: number },
    onLine: (line: LogLine) => void,
    onEnd: () => void,
  ): () => void;
  /** Every job and task transition as it is committed. */
  onTransition(listener: (event: TimelineEvent) => void): () => void;

  ants(): Promise<readonly AntInfo[]>;
  health(): Promise<{ readonly ok: boolean; readonly store: string; readonly uptimeMs: number }>;
}

import type { JobDefinition } from '../definition/model.js';
import type {
  AntInfo,
  ApplyResult,
  DefinitionVersion,
  JobQuery,
  JobState,
  JobSummary,
  LogLine,
  Page,
  TaskAttempt,
  TaskState,
  TimelineEvent,
} from '../queen/service.js';

/**
 * Everything the queen persists. SQLite implements it now; a PostgreSQL store implements the same
 * contract later (test/store/contract.ts is written to be reused by it).
 *
 * Every state change goes through `apply` or `claim`, which write the new state and its timeline
 * row in one transaction, so the timeline can never disagree with the state.
 */

/** Why a job stops taking new work before all of its tasks are done. */
export type JobStop = 'cancel' | 'timeout';

/** A job as stored: the public summary plus what only the queen needs. `retry` counts automatic whole-job retries. */
export interface JobRow extends JobSummary {
  readonly stop?: JobStop;
  /** Epoch ms after which the job times out; set when its first task starts. */
  readonly deadlineAt?: number;
  /** Monotonic submission order (ties on submittedAt are common). */
  readonly seq: number;
}

export interface TaskRow {
  readonly jobId: string;
  readonly taskType: string;
  readonly state: TaskState;
  /** The number of the latest attempt over the job's whole life (restarts continue it). */
  readonly attempt: number;
  /** Attempts made in the current run; retries left = task.retry + 1 - runAttempts. */
  readonly runAttempts: number;
  readonly exitCode?: number;
  readonly reason?: string;
  readonly outputs: Readonly<Record<string, string>>;
  /** The task this one routed to when it finished. */
  readonly route?: string;
  /** Ended by a FATAL route: the job fails at once. */
  readonly fatal: boolean;
  /** READY tasks wait until this epoch ms (retry delay, polling). */
  readonly notBefore?: number;
  /** When the task last finished; orders outputs ("the latest finished task wins"). */
  readonly endedAt?: Date;
}

export interface AttemptRow extends TaskAttempt {
  readonly jobId: string;
  readonly taskType: string;
  /** Process group of a SHELL attempt, so a restarted queen can kill what a crashed one left. */
  readonly pid?: number;
}

export interface NewJob {
  readonly id: string;
  readonly jobType: string;
  readonly version: number;
  readonly priority: number;
  readonly params: Readonly<Record<string, unknown>>;
  readonly submittedAt: Date;
  readonly scheduledAt: Date;
  readonly taskTypes: readonly string[];
}

export interface JobChange {
  /** Nothing is written unless the job is in one of these states. */
  readonly expect?: readonly JobState[];
  readonly state?: JobState;
  readonly reason?: string | null;
  readonly stop?: JobStop | null;
  readonly startedAt?: Date | null;
  readonly endedAt?: Date | null;
  readonly scheduledAt?: Date;
  readonly retry?: number;
  readonly deadlineAt?: number | null;
}

export interface TaskChange {
  readonly taskType: string;
  /** Nothing is written unless the task is in this state (and at this attempt). */
  readonly expect?: { readonly state?: TaskState; readonly attempt?: number };
  readonly state?: TaskState;
  readonly reason?: string | null;
  readonly exitCode?: number | null;
  /** Replaces the task's outputs. */
  readonly outputs?: Readonly<Record<string, string>>;
  readonly route?: string | null;
  readonly fatal?: boolean;
  readonly notBefore?: number | null;
  readonly runAttempts?: number;
  readonly endedAt?: Date | null;
}

export interface AttemptEnd {
  readonly taskType: string;
  readonly attempt: number;
  readonly state: TaskState;
  readonly exitCode?: number;
  readonly reason?: string;
}

export interface Changes {
  readonly at: Date;
  readonly job?: JobChange;
  readonly tasks?: readonly TaskChange[];
  readonly attempts?: readonly AttemptEnd[];
}

export interface Claim {
  readonly jobId: string;
  readonly taskType: string;
  readonly antId: string;
  readonly at: Date;
  /** The job's timeout: when this claim starts the job, its deadline becomes `at + jobTimeoutMs`. */
  readonly jobTimeoutMs?: number;
}

export interface Claimed {
  readonly attempt: number;
  readonly runAttempts: number;
  readonly events: readonly TimelineEvent[];
}

/** A READY task of an admitted job whose wait is over: what the scheduler may start. */
export interface ReadyTask {
  readonly jobId: string;
  readonly jobType: string;
  readonly version: number;
  readonly taskType: string;
  readonly priority: number;
  readonly submittedAt: Date;
  readonly jobSeq: number;
}

export interface NewLogLine {
  readonly jobId: string;
  readonly taskType: string;
  readonly attempt: number;
  readonly stream: LogLine['stream'];
  readonly at: Date;
  readonly text: string;
}

export interface LogQuery {
  readonly taskType?: string;
  readonly afterSeq?: number;
  readonly limit?: number;
}

export interface LeaseResult {
  readonly acquired: boolean;
  /** Who holds the lease now. */
  readonly holder: string;
  readonly expiresAt: number;
}

export interface JobStore {
  /** A short description for health checks, e.g. `sqlite:/path/to.db`. */
  readonly description: string;

  /** Stores `definition` as a new version unless it equals the latest one; re-enables a disabled type. */
  saveDefinition(definition: JobDefinition, source: string, at: Date): Promise<ApplyResult>;
  /** The latest version of every job type. */
  latestDefinitions(): Promise<readonly DefinitionVersion[]>;
  /** Newest first. */
  definitionVersions(jobType: string): Promise<readonly DefinitionVersion[]>;
  /** The given version, or the latest one. */
  definition(jobType: string, version?: number): Promise<DefinitionVersion | undefined>;
  setDefinitionDisabled(jobType: string, disabled: boolean): Promise<boolean>;

  /** Inserts the job (PENDING) and its tasks (PENDING) with the job's first timeline row. */
  createJob(job: NewJob): Promise<{ readonly job: JobRow; readonly events: readonly TimelineEvent[] }>;
  job(id: string): Promise<JobRow | undefined>;
  listJobs(query: JobQuery): Promise<Page<JobRow>>;
  tasks(jobId: string): Promise<readonly TaskRow[]>;
  attempts(jobId: string): Promise<readonly AttemptRow[]>;
  timeline(jobId: string): Promise<readonly TimelineEvent[]>;

  /**
   * Writes the changes and one timeline row per state change in a single transaction.
   * Returns undefined, writing nothing, when an expectation does not hold.
   */
  apply(jobId: string, changes: Changes): Promise<readonly TimelineEvent[] | undefined>;
  /**
   * Atomically moves a READY task of a READY/EXECUTING job that is not cancelled to EXECUTING with a
   * new attempt (and the job to EXECUTING). Undefined when someone else got there first. A timed-out
   * job still starts tasks: only its always_run tasks are left READY.
   */
  claim(claim: Claim): Promise<Claimed | undefined>;
  setAttemptPid(jobId: string, taskType: string, attempt: number, pid: number): Promise<void>;

  /** PENDING jobs whose scheduled time has come, by priority (high first) then submission; `offset` skips the first ones. */
  duePendingJobs(now: number, limit: number, offset?: number): Promise<readonly JobRow[]>;
  /** READY, EXECUTING or PAUSED jobs per job type (what max_concurrency limits: a paused job keeps its place). */
  activeJobsByType(): Promise<ReadonlyMap<string, number>>;
  /** READY tasks whose wait is over, of READY/EXECUTING jobs not cancelled, by priority then submission; `offset` skips the first ones. */
  readyTasks(now: number, limit: number, offset?: number): Promise<readonly ReadyTask[]>;
  /** READY/EXECUTING jobs without a stop whose deadline has passed. */
  expiredJobs(now: number): Promise<readonly JobRow[]>;
  /** The earliest future moment something becomes due: a scheduled job, a retry delay, a deadline. */
  nextWakeAt(): Promise<number | undefined>;
  /** Jobs in READY or EXECUTING (what a restarted queen must drive on). */
  activeJobs(): Promise<readonly JobRow[]>;
  /** Attempts still marked EXECUTING (after a crash: the ones that died with the queen). */
  executingAttempts(): Promise<readonly AttemptRow[]>;

  appendLogs(lines: readonly NewLogLine[]): Promise<readonly LogLine[]>;
  logs(jobId: string, query?: LogQuery): Promise<readonly LogLine[]>;

  /**
   * Takes or renews the named lease for `holder` for `ttlMs`. Another holder's lease is taken only
   * when it has expired or `mayTake(otherHolder)` says its holder is gone. Atomic.
   */
  acquireLease(name: string, holder: string, ttlMs: number, now: number, mayTake?: (otherHolder: string) => boolean): Promise<LeaseResult>;
  /** Gives the lease up if `holder` has it. */
  releaseLease(name: string, holder: string): Promise<void>;

  saveAnt(ant: AntInfo): Promise<void>;
  ants(): Promise<readonly AntInfo[]>;

  close(): Promise<void>;
}

export class StoreError extends Error {
  override readonly name = 'StoreError';
}

import type { ArtifactCatalog } from '../artifacts/catalog.js';
import type { JobDefinition } from '../definition/model.js';
import type { JobState, TaskState } from '../domain/states.js';
import type { ApplyResult, DefinitionVersion, JobQuery, JobSummary, LogLine, Page, TaskAttempt, TimelineEvent } from '../domain/types.js';
import type { AntDirectory } from './ants.js';
import type { ApprovalStore } from './approvals.js';
import type { CircuitBreakerStore } from './circuit-breakers.js';
import type { ConsumableStore } from './consumables.js';
import type { QuotaStore } from './quotas.js';
import type { SchedulingReads } from './scheduling.js';
import type { WorkflowEventStore } from './workflow-events.js';

/**
 * Everything the queens persist, on SQLite (embedded) or PostgreSQL (several queens); both run
 * test/store/contract.ts and the concurrency contract.
 *
 * Correctness lives in the database. Every write to a job goes through `apply` or `claim`, which
 * write the new state and its timeline rows in one transaction and bump the job's `revision`.
 * `apply` takes the revision its caller planned from and writes nothing when the job has moved on
 * since (compare-and-set): the caller re-reads and re-plans. Every write of one job takes the job's
 * row first (PostgreSQL row lock; SQLite's single writer), so one job's events and logs are written
 * in commit order and per-job cursors (`afterSeq`) never skip a row. No caller code runs inside a
 * transaction: every condition is data in the request.
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
  /** Bumped by every write to the job or its tasks: what `apply`'s compare-and-set checks. */
  readonly revision: number;
  /** The owning organisation (issue 17): the job's tenant in the scheduling framework. */
  readonly org?: string;
  /** The user who submitted it, when a user's token did: fair share by user and their own quotas. */
  readonly submittedBy?: string;
}

export interface JobWithTasks {
  readonly job: JobRow;
  readonly tasks: readonly TaskRow[];
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
  /** Why its running attempt must stop (`job timeout`, `job cancelled`): the mark the owner acts on. */
  readonly kill?: string;
}

/**
 * An attempt with its lease: the queen that owns it renews `leaseUntil` while it runs; once the
 * lease has expired any queen's reaper ends it and applies the task's retry policy. The attempt
 * number is the fencing token: it only grows per task, and a result is accepted only for the
 * task's current attempt while that attempt is still EXECUTING.
 */
/** Names one attempt: the attempt number is its fencing token. */
export interface AttemptKey {
  readonly jobId: string;
  readonly taskType: string;
  readonly attempt: number;
}

export interface AttemptRow extends TaskAttempt {
  readonly jobId: string;
  readonly taskType: string;
  /** The queen that claimed it (and whose ant runs it). */
  readonly owner?: string;
  /** Epoch ms; renewed by the owner's heartbeats. */
  readonly leaseUntil?: number;
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
  /** The owning organisation (issue 17); default `default`. Its quota is checked in the same transaction. */
  readonly org?: string;
  /** The submitting user, whose own quotas count the job (issue 17). */
  readonly submittedBy?: string;
  /**
   * Insert only while `version` is still the job type's latest and the type is enabled, checked by
   * the insert itself (else StaleDefinitionError and nothing is written): a queen may then build
   * the job from a definition it cached instead of reading it before every submit.
   */
  readonly requireLatest?: boolean;
}

export interface JobChange {
  /** Nothing is written unless the job is in one of these states. */
  readonly expect?: readonly JobState[];
  /** Nothing is written unless the job is still at this revision (what the caller planned from). */
  readonly revision?: number;
  /**
   * An admission under max_concurrency: nothing is written when this many jobs of the type are
   * already admitted (READY, EXECUTING or PAUSED). Counted inside the transaction, under a lock on
   * the job type, so queens admitting at once never exceed it.
   */
  readonly admitWithin?: number;
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
  readonly kill?: string | null;
}

/** Ends an attempt that is still EXECUTING; nothing is written when it is not (or an expectation fails). */
export interface AttemptEnd {
  readonly taskType: string;
  readonly attempt: number;
  readonly state: TaskState;
  readonly exitCode?: number;
  readonly reason?: string;
  /** CPU time its processes used, ms, where the ant measured it (CPU-hours quotas charge it instead of wall clock). */
  readonly cpuMs?: number;
  /** Only if its lease expired before this epoch ms (the reaper), or its owner is this one (a queen known gone). */
  readonly expect?: { readonly leaseBefore?: number; readonly owner?: string };
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
  /** The queen that will run it; default `antId`. */
  readonly owner?: string;
  /** The attempt's lease, from `at`; default 30 s. */
  readonly leaseMs?: number;
  /** The job's timeout: when this claim starts the job, its deadline becomes `at + jobTimeoutMs`. */
  readonly jobTimeoutMs?: number;
  /** The organisation the ant is bound to: the claim takes only that organisation's jobs. Absent for a shared ant. */
  readonly antOrg?: string;
  /**
   * Placement resources the attempt holds on its ant while it runs (cpu cores, memory MiB, named quantities).
   * The claim is refused, atomically across queens, when they are not free out of what the ant advertised in
   * the registry; an ant that advertised none is not metered.
   */
  readonly resources?: Readonly<Record<string, number>>;
}

export interface Claimed {
  readonly jobId: string;
  readonly taskType: string;
  readonly attempt: number;
  readonly runAttempts: number;
  readonly events: readonly TimelineEvent[];
}

/** A kind of task: what a definition version says about it (method, tags, needs) is the same for all of them. */
export interface TaskKind {
  readonly jobType: string;
  readonly version: number;
  readonly taskType: string;
}

/**
 * Pick and claim in one step (issue 11): the next READY tasks in the store's order (priority, then submission)
 * for one ant's free slots, skipping jobs another queen holds, so several queens take disjoint work.
 */
export interface ClaimNext {
  readonly antId: string;
  readonly at: Date;
  /** Free slots: at most this many tasks are looked at and claimed. */
  readonly limit: number;
  /** Kinds this ant takes as they come (no placement resources, no consumable units), with the job's timeout. */
  readonly take: readonly (TaskKind & { readonly jobTimeoutMs?: number })[];
  /** Kinds this ant can never run: passed over, left to other ants. */
  readonly skip: readonly TaskKind[];
  readonly owner?: string;
  readonly leaseMs?: number;
  /** The organisation the ant is bound to: only its jobs are looked at. */
  readonly antOrg?: string;
}

export interface ClaimedNext {
  /** In the store's order; each with the ready task it claimed. */
  readonly claimed: readonly (Claimed & { readonly task: ReadyTask })[];
  /**
   * Tasks in order from the first one whose kind is not in `take` (unknown, or needing the scheduler's
   * placement): nothing from there on is claimed, so nothing jumps them; they are returned unclaimed.
   */
  readonly unclaimed: readonly ReadyTask[];
  /** The claimed jobs with their tasks as the claim left them (what `jobsWithTasks` would read now). */
  readonly loaded: ReadonlyMap<string, JobWithTasks>;
}

/** A kind of job (type and version) a store may admit on its own: the tasks its admission makes READY (see `admissionTemplate`). */
export interface AdmissionKind {
  readonly jobType: string;
  readonly version: number;
  readonly start: readonly string[];
  readonly maxConcurrency?: number;
}

/**
 * Admit in one step (issue 11): the due PENDING jobs in the store's order (priority, then submission), skipping
 * jobs another queen holds, admitted while their type's max_concurrency has room, up to the first job the
 * supervisor must plan itself (a kind not in `take`, an organisation with admission quotas, a job not fresh).
 */
export interface AdmitNext {
  readonly at: Date;
  /** At most this many due jobs are looked at. */
  readonly limit: number;
  readonly take: readonly AdmissionKind[];
}

export interface AdmittedNext {
  /** The timeline rows written, in order (each admitted job's row, then its tasks'). */
  readonly events: readonly TimelineEvent[];
  readonly admitted: number;
  /** Due jobs looked at (those another queen held are not counted). */
  readonly picked: number;
  /** Jobs looked at and left PENDING because their type was full. */
  readonly held: number;
  /** The first job left to the supervisor (nothing from it on was admitted): its kind, and whether it was in `take`. */
  readonly stoppedAt?: { readonly jobType: string; readonly version: number; readonly known: boolean };
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
  /** The job's organisation: an ant bound to another cannot run it. */
  readonly org: string;
}

export interface NewLogLine {
  readonly jobId: string;
  readonly taskType: string;
  readonly attempt: number;
  readonly stream: LogLine['stream'];
  readonly at: Date;
  readonly text: string;
}

/** A remote ant's log batch: its number counts from 0 per attempt, and each is stored once, whichever queen receives it. */
export interface LogBatch {
  readonly jobId: string;
  readonly taskType: string;
  readonly attempt: number;
  readonly batch: number;
}

export interface LogQuery {
  readonly taskType?: string;
  readonly afterSeq?: number;
  readonly limit?: number;
}

/** A change committed by any queen: enough to know which job to look at. */
export interface Change {
  readonly jobId: string;
  /**
   * The timeline rows this process's commit wrote for the job, when it wrote some (what woke the
   * scheduler is then judged by them: scheduler/wakeups.ts); absent for another process's change
   * or one that wrote no timeline row, which could have changed anything.
   */
  readonly events?: readonly TimelineEvent[];
}

export interface LeaseResult {
  readonly acquired: boolean;
  /** Who holds the lease now. */
  readonly holder: string;
  readonly expiresAt: number;
}

export interface JobStore extends AntDirectory {
  /** A short description for health checks, e.g. `sqlite:/path/to.db`. */
  readonly description: string;

  /**
   * Stores `definition` as a new version unless it equals the latest one; re-enables a disabled type.
   * The first organisation to apply a job type owns it (default `default`); another's apply is refused.
   */
  saveDefinition(definition: JobDefinition, source: string, at: Date, org?: string): Promise<ApplyResult>;
  /** The latest version of every job type. */
  latestDefinitions(): Promise<readonly DefinitionVersion[]>;
  /** Newest first. */
  definitionVersions(jobType: string): Promise<readonly DefinitionVersion[]>;
  /** The given version, or the latest one. */
  definition(jobType: string, version?: number): Promise<DefinitionVersion | undefined>;
  setDefinitionDisabled(jobType: string, disabled: boolean): Promise<boolean>;

  /** Inserts the job (PENDING) and its tasks (PENDING) with the job's first timeline row. */
  createJob(job: NewJob): Promise<{ readonly job: JobRow; readonly events: readonly TimelineEvent[] }>;
  /** Inserts many jobs in one transaction (a bulk submit): all or none; in the order given. */
  createJobs(jobs: readonly NewJob[]): Promise<{ readonly jobs: readonly JobRow[]; readonly events: readonly TimelineEvent[] }>;
  job(id: string): Promise<JobRow | undefined>;
  /**
   * Jobs with their tasks (in definition order), read in one statement: what a decision or the
   * rendering of a claimed task starts from. Ids that name no job are left out.
   */
  jobsWithTasks(ids: readonly string[]): Promise<ReadonlyMap<string, JobWithTasks>>;
  listJobs(query: JobQuery): Promise<Page<JobRow>>;
  tasks(jobId: string): Promise<readonly TaskRow[]>;
  attempts(jobId: string): Promise<readonly AttemptRow[]>;
  timeline(jobId: string): Promise<readonly TimelineEvent[]>;

  /**
   * Writes the changes and one timeline row per state change in a single transaction.
   * Returns undefined, writing nothing, when an expectation does not hold. `basis`: the job and its
   * tasks as the caller read them at `changes.job.revision`; with it a store may check the
   * expectations against that read and write with one compare-and-set on the revision instead of
   * reading the job again under a lock (PostgreSQL: one statement, no transaction).
   */
  apply(jobId: string, changes: Changes, basis?: JobWithTasks): Promise<readonly TimelineEvent[] | undefined>;
  /**
   * Several jobs' transitions (each job at most once) in one transaction, in order: each is written
   * or refused (undefined) on its own, as `apply` would, and a job another queen is writing is
   * refused rather than waited for (`FOR UPDATE SKIP LOCKED` on PostgreSQL). Admissions of one type
   * under `admitWithin` take its free places in batch order. Conditional attempt ends (the reaper's)
   * are refused with a StoreError: they go through `apply`. With a `basis` for every job (as `apply`
   * takes it) a store may write the whole batch as compare-and-sets in one statement instead, where
   * a job another queen is writing is waited for as `apply` would.
   */
  applyMany(
    batch: readonly { readonly jobId: string; readonly changes: Changes; readonly basis?: JobWithTasks }[],
  ): Promise<readonly (readonly TimelineEvent[] | undefined)[]>;
  /**
   * Atomically moves a READY task of a READY/EXECUTING job that is not cancelled to EXECUTING with a
   * new attempt (and the job to EXECUTING). Undefined when someone else got there first. A timed-out
   * job still starts tasks: only its always_run tasks are left READY.
   */
  claim(claim: Claim): Promise<Claimed | undefined>;
  /**
   * Several claims in one transaction: each is taken or skipped on its own (a job another queen is
   * writing is skipped, not waited for: `FOR UPDATE SKIP LOCKED` on PostgreSQL). In claim order; only the taken ones.
   */
  claimMany(claims: readonly Claim[]): Promise<readonly Claimed[]>;
  /**
   * Picks and claims the next READY tasks for one ant in one atomic step (see ClaimNext); undefined when this
   * store picks in the scheduler instead (`readyTasks` then `claimMany`: SQLite, a store with an outbox).
   */
  claimNext?(request: ClaimNext): Promise<ClaimedNext | undefined>;
  /**
   * Admits the next due jobs of the kinds in `take` in one atomic step (see AdmitNext); undefined when this
   * store admits only through `applyMany` (SQLite, a store with an outbox).
   */
  admitNext?(request: AdmitNext): Promise<AdmittedNext | undefined>;

  /** PENDING jobs whose scheduled time has come, by priority (high first) then submission; `offset` skips the first ones. */
  duePendingJobs(now: number, limit: number, offset?: number): Promise<readonly JobRow[]>;
  /** READY, EXECUTING or PAUSED jobs per job type (what max_concurrency limits: a paused job keeps its place). */
  activeJobsByType(): Promise<ReadonlyMap<string, number>>;
  /** READY tasks whose wait is over, of READY/EXECUTING jobs not cancelled, by priority then submission; `offset` skips the first ones. */
  readyTasks(now: number, limit: number, offset?: number): Promise<readonly ReadyTask[]>;
  /** READY/EXECUTING jobs without a stop whose deadline has passed. */
  expiredJobs(now: number): Promise<readonly JobRow[]>;
  /**
   * The earliest moment something becomes due: a scheduled job, a retry delay, a deadline, a lease's
   * end; with `after`, the earliest one later than it (what is due already was seen by a pass).
   */
  nextWakeAt(after?: number): Promise<number | undefined>;
  /** Jobs in READY or EXECUTING (what a restarted queen must drive on). */
  activeJobs(): Promise<readonly JobRow[]>;
  /** Attempts still marked EXECUTING, optionally only those of one owner. */
  executingAttempts(owner?: string): Promise<readonly AttemptRow[]>;
  /** EXECUTING attempts whose lease ended before `now` (their owner stopped renewing). */
  expiredAttempts(now: number, limit: number): Promise<readonly AttemptRow[]>;
  /**
   * Extends to `until` the lease of each `held` attempt that is still EXECUTING under `owner`;
   * returns how many. Only attempts an ant really runs are named: an attempt of the owner that no ant
   * runs (its claim committed but the queen never saw the answer) must lapse so the reaper ends it.
   */
  renewLeases(owner: string, until: number, held: readonly AttemptKey[]): Promise<number>;

  /**
   * Appends lines; with `batch`, only if that batch of the attempt was not stored before (by any
   * queen: the database decides), else nothing is written and the result is empty.
   */
  appendLogs(lines: readonly NewLogLine[], batch?: LogBatch): Promise<readonly LogLine[]>;
  logs(jobId: string, query?: LogQuery): Promise<readonly LogLine[]>;

  /**
   * Takes or renews the named lease for `holder` for `ttlMs`. Another holder's lease is taken only
   * when it has expired or that holder is `takeFrom` (one the caller knows is gone). Atomic.
   */
  acquireLease(name: string, holder: string, ttlMs: number, now: number, takeFrom?: string): Promise<LeaseResult>;
  /** Gives the lease up if `holder` has it. */
  releaseLease(name: string, holder: string): Promise<void>;

  /**
   * Calls `listener` after each commit that changed a job, from any queen on this database
   * (PostgreSQL LISTEN/NOTIFY; in-process on SQLite). A hint to look, never the data itself:
   * notifications can be coalesced or, across a reconnect, lost, so readers also poll.
   */
  onChange(listener: (change: Change) => void): () => void;

  /** Which task attempts left which artifacts (absent on stores that keep none). */
  artifacts?(): ArtifactCatalog;

  /** The votes on MANUAL tasks (absent on stores that keep none: MANUAL tasks then cannot be decided). */
  approvals?(): ApprovalStore;

  /** Consumable resources' pools and holds (absent on stores that keep none: such requests then wait, saying why). */
  consumables?(): ConsumableStore;

  /** The HTTP circuit breakers' shared state (absent on stores that keep none: breakers are then off). */
  circuitBreakers?(): CircuitBreakerStore;

  /** Ended attempts for the scheduling framework's history and usage (absent on stores that cannot say). */
  scheduling?(): SchedulingReads;

  /** Quotas per organisation and user, and their usage (absent on stores that keep none: nothing is limited). */
  quotas?(): QuotaStore;

  /** Notifications, job origins (redrive, triggers, webhooks), dead letters (absent on stores that keep none). */
  workflowEvents?(): WorkflowEventStore;

  close(): Promise<void>;
}

export class StoreError extends Error {
  override readonly name = 'StoreError';
}

/** A job built with `requireLatest` from a definition version that is no longer the latest enabled one. */
export class StaleDefinitionError extends StoreError {
  constructor(readonly jobTypes: readonly string[]) {
    super(`the definition of ${jobTypes.map((t) => `'${t}'`).join(', ')} changed since it was read`);
  }
}

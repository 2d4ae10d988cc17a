import type { Ant, Decision, PendingJob, Placement, RunningAttempt, Snapshot, TaskSpec } from '../model.js';

/** A reason to wait. `retryAt` defaults to the profile's retry interval; `priority` is a degraded priority to record. */
export interface Hold {
  readonly reason: string;
  readonly retryAt?: number;
  readonly priority?: number;
  /** Stop trying for good (a sensor out of polls, a deadline that can no longer be met). */
  readonly giveUp?: boolean;
}

/** One ant during a pass: what it has left, and what runs on it (including this pass's placements). */
export interface AntState {
  readonly ant: Ant;
  readonly index: number;
  /** Capacity after overcommit, minus every allocation. */
  readonly free: Record<string, number>;
  /** Physical capacity minus every allocation: what a guaranteed task may use. */
  readonly rawFree: Record<string, number>;
  readonly capacity: Record<string, number>;
  /** The jobs with work here (running, and placed this pass), for anti-affinity. */
  readonly residents: { readonly jobId: string; readonly jobType: string }[];
  readonly attempts: RunningAttempt[];
}

/** Which of a lane's keys a job belongs to, and which lane goes next: multilevel queues and fair share. */
export interface LaneGroup {
  readonly key: string;
  /** The job that would go next from this group. */
  readonly head: PendingJob;
  readonly waiting: number;
}

export interface PassContext {
  /** The pass's input. With a `Cluster`, its `ants` and `running` are empty: read `ants` and `running()` instead. */
  readonly snapshot: Snapshot;
  readonly now: number;
  readonly ants: readonly AntState[];
  /** Sum of every schedulable ant's capacity (after overcommit). */
  readonly total: Readonly<Record<string, number>>;
  /** Resources held per accounting key: `tenant:acme`, `user:bob`, `queue:batch`, `type:etl`, running and placed this pass. */
  allocated(key: string): Readonly<Record<string, number>>;
  /** Jobs with attempts running (or started this pass) per accounting key. */
  count(key: string): number;
  /** Every running attempt, in start order (this pass's placements not included). */
  running(): readonly RunningAttempt[];
  /** Mean past runtime of a job type, ms, if known. */
  meanRuntime(jobType: string): number | undefined;
  /** State a plugin keeps from one pass to the next (returned in the result as `carry`). */
  carry<T>(plugin: string, initial: () => T): T;
  /** Attempts already chosen as victims this pass. */
  readonly victims: Set<string>;
  /** A deterministic random number in [0, 1): the profile's seed and the snapshot's time. */
  random(): number;
}

/**
 * One algorithm. Each member is an extension point of the Kubernetes scheduling framework
 * (queue sort, pre-filter, filter, score, reserve, permit, post-filter) plus admission,
 * lanes (which queue or tenant goes next) and a background hook (speculation).
 */
export interface Plugin {
  readonly name: string;
  /** Weight of `score` among the scorers. */
  readonly weight?: number;
  /** Orders jobs inside one lane: negative when `a` goes first, 0 to defer to the next sorter. */
  queueSort?(a: PendingJob, b: PendingJob, context: PassContext): number;
  /**
   * True when `queueSort`'s verdict on two jobs can change with time (aging): a PendingQueue then rebuilds its
   * heaps once per new `now` (O(pending)) instead of keeping them. 'history' when it changes only with the mean
   * runtimes of job types (SJF and laxity on past runtimes): the heaps are rebuilt only when the mean of a type
   * some pending job without its own `estimatedRuntime` has moved.
   */
  readonly volatileSort?: boolean | 'history';
  /** A lane level: the key a job waits under, and which group goes next. */
  lane?: {
    key(job: PendingJob): string;
    choose(groups: readonly LaneGroup[], context: PassContext): number;
    /** Called once a job of this group has been placed. */
    served?(key: string, job: PendingJob, placements: readonly Placement[], context: PassContext): void;
  };
  /** Whether a job may start at all now (quotas, concurrency limits, sensor bounds). */
  admit?(job: PendingJob, context: PassContext): Hold | undefined;
  /** A cheap whole-job check before any ant is looked at. */
  preFilter?(job: PendingJob, context: PassContext): Hold | undefined;
  /** Whether this ant can take this task; a string says why not. */
  filter?(job: PendingJob, task: TaskSpec, ant: AntState, context: PassContext): string | undefined;
  /** How good this ant is for this task, 0 (worst) to 100 (best). */
  score?(job: PendingJob, task: TaskSpec, ant: AntState, context: PassContext): number;
  /** Last word on a complete set of placements. */
  permit?(job: PendingJob, placements: readonly Placement[], context: PassContext): Hold | undefined;
  /** When the job could not be placed: victims to preempt so that it can be later. */
  postFilter?(job: PendingJob, context: PassContext): { decisions: Decision[]; hold: Hold } | undefined;
  /** How long a job that could not be placed waits, and at what priority (gang backoff, Formicary degradation). */
  backoff?(job: PendingJob, hold: Hold, context: PassContext): Hold | undefined;
  /** Decisions not tied to one pending job, after the queue: speculative copies of stragglers. */
  background?(context: PassContext, place: (job: PendingJob, task: TaskSpec, exclude: string) => AntState | undefined): Decision[];
}

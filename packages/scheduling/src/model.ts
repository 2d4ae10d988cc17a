/** Named quantities: cpu, memory, storage, or any custom resource (gpu, licence, device). Absent means 0. */
export type Resources = Readonly<Record<string, number>>;

/** Kubernetes node-affinity operators, on an ant's labels. */
export type MatchOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Gt' | 'Lt';

export interface MatchExpression {
  readonly key: string;
  readonly operator: MatchOperator;
  readonly values?: readonly string[];
}

/** Terms are ORed; the expressions inside one term are ANDed (as in Kubernetes). */
export interface Affinity {
  readonly required?: readonly (readonly MatchExpression[])[];
  readonly preferred?: readonly { readonly weight: number; readonly match: readonly MatchExpression[] }[];
  /** Anti-affinity: no two tasks of these job types (or this job, with 'self') on the same ant. */
  readonly antiAffinity?: readonly string[];
}

export type QosClass = 'guaranteed' | 'burstable' | 'best-effort';

export interface TaskSpec {
  readonly id: string;
  /** What the task asks for (the request); the ant must have it free. */
  readonly resources: Resources;
  readonly affinity?: Affinity;
  /** Ants where this task runs best (data locality); delay scheduling waits for one of them. */
  readonly preferredAnts?: readonly string[];
  readonly qos?: QosClass;
  /** The taints this task accepts on an ant (Kubernetes tolerations). */
  readonly tolerations?: readonly Toleration[];
}

/**
 * A mark on an ant that repels tasks which do not tolerate it (Kubernetes taints): `NoSchedule` keeps them off,
 * `PreferNoSchedule` only scores the ant lower.
 */
export interface Taint {
  readonly key: string;
  readonly value?: string;
  readonly effect: TaintEffect;
}

export type TaintEffect = 'NoSchedule' | 'PreferNoSchedule';

/**
 * Kubernetes semantics: `Exists` matches any value (and, with no key, every taint); `Equal` (the default) needs
 * the same value; no effect matches both effects.
 */
export interface Toleration {
  readonly key?: string;
  readonly operator?: 'Equal' | 'Exists';
  readonly value?: string;
  readonly effect?: TaintEffect;
}

/** A job or a group of its tasks that waits to start. */
export interface PendingJob {
  readonly id: string;
  readonly jobType: string;
  readonly tenant: string;
  readonly user?: string;
  readonly queue?: string;
  readonly tags?: readonly string[];
  readonly priority: number;
  readonly submittedAt: number;
  /** Submission order, for jobs submitted in the same millisecond (a store's sequence). */
  readonly seq?: number;
  /** Not to be started before this time (scheduled_at, or a hold's retry time). */
  readonly notBefore?: number;
  /** Absolute deadline, ms. */
  readonly deadline?: number;
  readonly estimatedRuntime?: number;
  /** Tasks to place now. */
  readonly tasks: readonly TaskSpec[];
  /** All tasks reserved at once, or none. */
  readonly gang?: boolean;
  /** How many passes have held this job (Formicary's schedule_attempts). */
  readonly scheduleAttempts?: number;
  /** Job-type concurrency limit (Formicary's max_concurrency). */
  readonly maxConcurrency?: number;
  /** Polling sensor: a task in the EXECUTING loop re-enters the queue; stop after this many polls. */
  readonly polls?: number;
  readonly maxPolls?: number;
  readonly speculativeBackup?: SpeculativeBackup;
}

export interface SpeculativeBackup {
  /** Start a backup once the attempt has run this multiple of the expected runtime (1.5 = 150%). */
  readonly delayThreshold: number;
  /** Only when at least this fraction of the cluster's cpu is free. */
  readonly resourceThreshold?: number;
}

export interface RunningAttempt {
  readonly id: string;
  readonly jobId: string;
  readonly taskId: string;
  readonly antId: string;
  readonly jobType: string;
  readonly tenant: string;
  readonly user?: string;
  readonly queue?: string;
  readonly priority: number;
  readonly resources: Resources;
  readonly startedAt: number;
  readonly estimatedRuntime?: number;
  readonly speculative?: boolean;
  readonly speculativeBackup?: SpeculativeBackup;
  readonly qos?: QosClass;
  /** Already asked to stop; do not pick it as a victim again. */
  readonly terminating?: boolean;
}

export interface Ant {
  readonly id: string;
  readonly capacity: Resources;
  readonly labels?: Readonly<Record<string, string>>;
  readonly taints?: readonly Taint[];
  /** A down or draining ant takes no new work. */
  readonly schedulable?: boolean;
}

/** Consumption per tenant or queue over the current quota period (e.g. cpu-hours today). */
export interface UsageLedger {
  readonly consumed: Resources;
  readonly periodStart: number;
}

export interface Snapshot {
  readonly now: number;
  readonly pending: readonly PendingJob[];
  readonly running: readonly RunningAttempt[];
  readonly ants: readonly Ant[];
  readonly usage?: Readonly<Record<string, UsageLedger>>;
  /** Past runtimes per job type, ms (most recent last), for SJF, stragglers and the wait estimate. */
  readonly history?: Readonly<Record<string, readonly number[]>>;
}

export interface Placement {
  readonly taskId: string;
  readonly antId: string;
  readonly resources: Resources;
}

export type Decision =
  | { readonly kind: 'admit'; readonly jobId: string }
  | {
      readonly kind: 'hold';
      readonly jobId: string;
      readonly reason: string;
      readonly retryAt: number;
      /** A degraded priority the store should record. */
      readonly priority?: number;
      readonly plugin: string;
    }
  | { readonly kind: 'place'; readonly jobId: string; readonly placement: Placement }
  | { readonly kind: 'reserve-gang'; readonly jobId: string; readonly placements: readonly Placement[] }
  | { readonly kind: 'preempt'; readonly attemptId: string; readonly reason: string; readonly graceMs: number; readonly forJobId: string }
  | { readonly kind: 'speculate'; readonly attemptId: string; readonly antId: string; readonly resources: Resources }
  | { readonly kind: 'give-up'; readonly jobId: string; readonly reason: string };

import type { Taint } from '@myrmex/scheduling';
import type { JobDefinition } from '../definition/model.js';
/**
 * The orchestrator's domain types: what a job, task, attempt and timeline event are. Store, engine,
 * scheduler, queen, API and CLI all import them from here, so no layer borrows another's types.
 */

import type { JobState, TaskState } from './states.js';

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
  /**
   * The organisation that owns the job (issue 17); set by the authenticated API, default `default`.
   * `jobType` is a name in its namespace (domain/job-type-names.ts).
   */
  readonly org?: string;
  /** The user who submitted it (set by the authenticated API): their own quotas count it. */
  readonly user?: string;
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
  /** Only this organisation's jobs (issue 17). */
  readonly org?: string;
  /** A previous page's `nextCursor`: the page continues right after it (newest first); `offset` must then be 0. */
  readonly cursor?: string;
  /** Only jobs submitted at or after this instant. */
  readonly submittedAfter?: Date;
  /** Only jobs submitted before this instant. */
  readonly submittedBefore?: Date;
  /**
   * Only jobs whose id starts with this text (ignoring case) or whose job type is exactly this text.
   * Params are not searched: no index could serve that at a million jobs.
   */
  readonly text?: string;
  /**
   * `exact`: the page also carries `total`, a COUNT of every matching job (a scan of the matches:
   * ask for it when the number is needed, not on every page). Without it no count runs.
   */
  readonly count?: 'exact';
}

export interface Page<T> {
  readonly items: readonly T[];
  /** How many items match in all: only when asked for (JobQuery `count: 'exact'`); pages are walked by `nextCursor`. */
  readonly total?: number;
  readonly limit: number;
  readonly offset: number;
  /** Where the next page starts (absent on the last page); pass it back as `cursor`. */
  readonly nextCursor?: string;
}

export interface AntInfo {
  readonly id: string;
  readonly methods: readonly string[];
  readonly tags: readonly string[];
  readonly capacity: number;
  readonly running: number;
  readonly lastSeenAt: Date;
  /** The organisation whose jobs alone it runs (its token's); absent for a shared ant. */
  readonly org?: string;
  /** Remote ants (issue 12): what the ant registered beyond methods and tags. */
  readonly labels?: Readonly<Record<string, string>>;
  readonly resources?: Readonly<Record<string, string>>;
  /** Kubernetes-style taints as written (`gpu=true:NoSchedule`): tasks that do not tolerate them stay off. */
  readonly taints?: readonly string[];
  readonly version?: string;
  /** In the queen's process, or connected over the WebSocket protocol. */
  readonly remote?: boolean;
  /** The queen it is connected to (the holder id that owns its embedded ant's attempts). */
  readonly queen?: string;
  /** Connected now: its queen saw it within the expiry (a queen killed with -9 leaves a stale row that expires). */
  readonly connected?: boolean;
  /** Epoch ms after which the row no longer counts as connected unless seen again. */
  readonly expiresAt?: number;
  /** It stopped taking work (SIGTERM, or `myrmex ants drain`). */
  readonly draining?: boolean;
  /** The assignment ids (`jobId/taskType/attempt`) it runs. */
  readonly assignments?: readonly string[];
}

/** An ant as the scheduler sees it: what it can run and how busy it is. */
export interface AntSlot {
  readonly id: string;
  readonly methods: ReadonlySet<string>;
  readonly tags: ReadonlySet<string>;
  readonly capacity: number;
  readonly running: number;
  /** Runs only this organisation's jobs; absent: any organisation's. */
  readonly org?: string;
  /** Labels that node_selector and affinity match (`--ant-labels`, `--labels`). */
  readonly labels?: Readonly<Record<string, string>>;
  /** Advertised capacity in the definitions' units (cpu cores, memory MiB); absent or empty: not metered. */
  readonly resources?: Readonly<Record<string, number>>;
  /** What the attempts it runs requested, out of `resources`. */
  readonly used?: Readonly<Record<string, number>>;
  readonly taints?: readonly Taint[];
}

/** What an executor reports about one attempt. */
export interface AttemptResult {
  /** SHELL: the process exit code; HTTP: the status code. Absent when the attempt never produced one. */
  readonly exitCode?: number;
  /** SHELL: exit code 0; HTTP: a 2xx status. */
  readonly succeeded: boolean;
  /** Why the attempt failed without a usable exit code (timeout, spawn error, unknown variable). */
  readonly error?: string;
  /**
   * CPU time (user + system, ms) the attempt's processes used, where the executor measures it (SHELL);
   * CPU-hours quotas charge it, or the attempt's wall-clock time when it is absent.
   */
  readonly cpuMs?: number;
  /** The files the attempt left (`artifacts`), stored as blobs by the ant; the queen records them. */
  readonly artifacts?: AttemptArtifacts;
  /** The cache the attempt saved (`cache`), under its resolved key; the queen records it for the job type. */
  readonly cache?: { readonly key: string; readonly digest: string; readonly size: number; readonly expiresAt: number };
}

/** The same shape as artifacts' ArtifactManifest, held here so the domain needs no layer above it. */
export interface AttemptArtifacts {
  readonly files: readonly { readonly path: string; readonly digest: string; readonly size: number; readonly mode: number }[];
  readonly missing: readonly string[];
  readonly expiresAt?: number;
}

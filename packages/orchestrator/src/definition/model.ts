/**
 * The normalised job definition: what the YAML parser produces and the engine consumes.
 * Durations are milliseconds; every optional list or map is present (empty when absent).
 */

/** Methods every queen knows; a queen may register more executors (the benchmark's no-op). */
export const BUILT_IN_METHODS = ['SHELL', 'HTTP_GET', 'HTTP_POST_JSON', 'HTTP_PUT_JSON', 'HTTP_DELETE'] as const;
export type BuiltInMethod = (typeof BUILT_IN_METHODS)[number];

/**
 * Where a route may lead besides another task:
 * - `COMPLETED`: the attempt counts as a success (then `on_completed` applies);
 * - `FAILED`: the attempt counts as a failure (retries, then `on_failed`, apply);
 * - `FATAL`: the task fails with no retry and the job fails at once (only `always_run` tasks still run);
 * - `EXECUTING`: poll again: the task is re-run after its retry delay, consuming one retry.
 */
export const ROUTE_STATES = ['COMPLETED', 'FAILED', 'FATAL', 'EXECUTING'] as const;
export type RouteState = (typeof ROUTE_STATES)[number];

export interface Backoff {
  /** `fixed` waits `delayBetweenRetriesMs` each time; `exponential` doubles it per attempt up to `maxDelayMs`. */
  readonly strategy: 'fixed' | 'exponential';
  readonly maxDelayMs: number;
  /** Full jitter: the wait is drawn uniformly from [0, computed delay]. */
  readonly jitter: boolean;
}

export interface TaskDefinition {
  readonly taskType: string;
  readonly method: string;
  readonly description?: string;
  /** SHELL: lines run in order by one `sh -e`; templated. */
  readonly script: readonly string[];
  readonly environment: Readonly<Record<string, string>>;
  readonly variables: Readonly<Record<string, unknown>>;
  readonly timeoutMs?: number;
  /** Further attempts after the first one fails. */
  readonly retry: number;
  readonly delayBetweenRetriesMs: number;
  readonly backoff: Backoff;
  readonly onCompleted?: string;
  readonly onFailed?: string;
  /** Keys are exit codes ("0", "404") or the states "COMPLETED" / "FAILED"; values a task type or a RouteState. */
  readonly onExitCode: Readonly<Record<string, string>>;
  readonly dependencies: readonly string[];
  readonly alwaysRun: boolean;
  readonly allowFailure: boolean;
  readonly tags: readonly string[];
  /** HTTP methods: templated URL, headers and query; POST/PUT send `body` (templated) as JSON. */
  readonly url?: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  readonly body?: unknown;
}

export interface JobDefinition {
  readonly jobType: string;
  readonly description?: string;
  /** 0-100; the default priority of requests that do not name one. */
  readonly priority: number;
  /** At most this many requests of this type execute at once; absent means unlimited. */
  readonly maxConcurrency?: number;
  readonly timeoutMs?: number;
  /** Whole-job retries: a FAILED job is restarted (soft) up to this many times. */
  readonly retry: number;
  readonly delayBetweenRetriesMs: number;
  readonly jobVariables: Readonly<Record<string, unknown>>;
  readonly tags: readonly string[];
  /** In the order written; the order matters for Formicary chains (see README). */
  readonly tasks: readonly TaskDefinition[];
}

import type * as z from 'zod';
import type { CircuitBreakerSpec } from './circuit-breaker.js';
import type {
  approvalPolicySchema,
  artifactsSchema,
  backoffPolicySchema,
  cacheSchema,
  containerSchema,
  fanOutSchema,
  notifySchema,
  resourcesSchema,
  serviceSchema,
  subWorkflowSchema,
  triggerSchema,
  webhookSchema,
} from './formicary-keys.js';
import type { SchedulingSpec } from './scheduling.js';

/**
 * The normalised job definition: what the YAML parser produces and the engine consumes.
 * Durations are milliseconds; every optional list or map is present (empty when absent).
 */

/** Methods every queen knows; a queen may register more executors (the benchmark's no-op). */
export const BUILT_IN_METHODS = [
  'SHELL',
  'HTTP_GET',
  'HTTP_POST_FORM',
  'HTTP_POST_JSON',
  'HTTP_PUT_FORM',
  'HTTP_PUT_JSON',
  'HTTP_DELETE',
] as const;
export type BuiltInMethod = (typeof BUILT_IN_METHODS)[number];

/**
 * Every method a definition may name (Formicary's set). A queen runs the ones it has executors
 * for; a task whose method no ant offers waits with that reason.
 */
export const DEFINITION_METHODS = [
  'SHELL',
  'DOCKER',
  'KUBERNETES',
  'HTTP_GET',
  'HTTP_POST_FORM',
  'HTTP_POST_JSON',
  'HTTP_PUT_FORM',
  'HTTP_PUT_JSON',
  'HTTP_DELETE',
  'WEBSOCKET',
  'MESSAGING',
  'FORK_JOB',
  'AWAIT_FORKED_JOB',
  'EXPIRE_ARTIFACTS',
  'MANUAL',
] as const;

/** Exit states a route may start from, besides exit codes: MANUAL tasks end APPROVED or REJECTED. */
export const EXIT_STATES = ['COMPLETED', 'FAILED', 'APPROVED', 'REJECTED'] as const;

/**
 * Job-level actions a route may lead to (Formicary): pause the job until resumed, restart the job
 * or the task, wait for an approval. `ERR_<CODE>` targets name an error code the job fails with.
 */
export const CONTROL_TARGETS = ['PAUSE_JOB', 'RESTART_JOB', 'RESTART_TASK', 'WAIT_FOR_APPROVAL'] as const;
export type ControlTarget = (typeof CONTROL_TARGETS)[number];

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

export type ContainerSpec = z.output<typeof containerSchema>;
export type ServiceSpec = z.output<typeof serviceSchema>;
export type ArtifactsSpec = z.output<typeof artifactsSchema>;
export type CacheSpec = z.output<typeof cacheSchema>;
export type ResourcesSpec = z.output<typeof resourcesSchema>;
export type SubWorkflowSpec = z.output<typeof subWorkflowSchema>;
export type FanOutSpec = z.output<typeof fanOutSchema>;
export type ApprovalPolicySpec = z.output<typeof approvalPolicySchema>;
export type NotifySpec = z.output<typeof notifySchema>;
export type WebhookSpec = z.output<typeof webhookSchema>;
export type TriggerSpec = z.output<typeof triggerSchema>;
export type BackoffPolicySpec = z.output<typeof backoffPolicySchema>;

/** Kubernetes placement, matched against ant labels when the task runs on a container engine. */
export interface PodPlacement {
  readonly nodeSelector: Readonly<Record<string, string>>;
  readonly podLabels: Readonly<Record<string, string>>;
  readonly tolerations?: unknown;
  readonly affinity?: Readonly<Record<string, unknown>>;
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
  /** The DAG join (`needs`): tasks that must all end before this one runs. */
  readonly needs: readonly string[];
  /** Tasks whose artifacts are downloaded before this one runs (`dependencies`, Formicary's meaning); not a join. */
  readonly dependencies: readonly string[];
  readonly alwaysRun: boolean;
  readonly allowFailure: boolean;
  readonly tags: readonly string[];
  /** HTTP methods: templated URL, headers and query; POST/PUT send `body` (templated) as JSON. */
  readonly url?: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  readonly body?: unknown;
  /** DOCKER / KUBERNETES: the main container. */
  readonly container?: ContainerSpec;
  readonly workingDir?: string;
  readonly beforeScript: readonly string[];
  readonly afterScript: readonly string[];
  readonly hostNetwork: boolean;
  readonly privileged: boolean;
  readonly services: readonly ServiceSpec[];
  readonly placement: PodPlacement;
  readonly artifacts?: ArtifactsSpec;
  readonly cache?: CacheSpec;
  readonly resources?: ResourcesSpec;
  /** resources (as quantities), affinity, estimated_runtime, speculative_backup. */
  readonly scheduling?: SchedulingSpec;
  readonly reportStdout: boolean;
  /** A template (or "true"): the task is skipped when it renders to true. `except` is read into this too. */
  readonly skipIf?: string;
  readonly forkJobType?: string;
  readonly forkJobVersion?: string;
  readonly subWorkflow?: SubWorkflowSpec;
  readonly awaitForkedTasks: readonly string[];
  readonly fanOut?: FanOutSpec;
  readonly approvalPolicy?: ApprovalPolicySpec;
  readonly messaging?: { readonly requestQueue: string; readonly replyQueue?: string };
  readonly webhook?: WebhookSpec;
  readonly notify?: NotifySpec;
  readonly retryBackoffPolicy?: BackoffPolicySpec;
  /** `circuit_breaker`: the HTTP breaker's settings for this task (or the job's tasks), or false for none. */
  readonly circuitBreaker?: CircuitBreakerSpec;
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
  readonly cronTrigger?: string;
  readonly triggers: readonly TriggerSpec[];
  readonly resources?: ResourcesSpec;
  /** The task keys as defaults for every task, plus deadline, queue and tenant. */
  readonly scheduling?: SchedulingSpec;
  readonly notify?: NotifySpec;
  readonly webhook?: WebhookSpec;
  /** A template (or "true"): the job is skipped when it renders to true. */
  readonly skipIf?: string;
  /** A request must give these params (400 otherwise). */
  readonly requiredParams: readonly string[];
  readonly retryBackoffPolicy?: BackoffPolicySpec;
  /** `circuit_breaker`: the HTTP breaker's settings for this task (or the job's tasks), or false for none. */
  readonly circuitBreaker?: CircuitBreakerSpec;
  readonly semVersion?: string;
  /** In the order written; the order matters for Formicary chains (see README). */
  readonly tasks: readonly TaskDefinition[];
}

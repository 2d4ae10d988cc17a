import { parseDuration } from './duration.js';
import type { Backoff, JobDefinition, TaskDefinition } from './model.js';
import { formicaryResources, normalizeScheduling } from './scheduling.js';
import type { RawJobDefinition, RawTaskDefinition } from './schema.js';

export const DEFAULT_PRIORITY = 50;
export const DEFAULT_METHOD = 'SHELL';
/** Formicary runs a task without a method on Kubernetes; Myrmex does so only when the task names a container. */
export const DEFAULT_CONTAINER_METHOD = 'KUBERNETES';

/** The method a task runs with when it names none. */
export function defaultMethod(raw: { readonly container?: unknown }): string {
  return raw.container === undefined ? DEFAULT_METHOD : DEFAULT_CONTAINER_METHOD;
}

/** Formicary's job tags are one string: labels separated by commas or spaces. */
export function jobTagList(tags: string | readonly string[] | undefined): string[] {
  if (tags === undefined) return [];
  if (typeof tags !== 'string') return [...tags];
  return tags.split(/[\s,]+/).filter((tag) => tag !== '');
}

/** skip_if / except as one template text; false and null mean "never skip". */
function skipCondition(...values: readonly (string | boolean | null | undefined)[]): string | undefined {
  const parts = values.flatMap((value) =>
    value === true ? ['true'] : typeof value === 'string' && value.trim() !== '' ? [value.trim()] : [],
  );
  return parts.length === 0 ? undefined : parts.join(' ');
}
export const DEFAULT_MAX_DELAY_MS = 5 * 60_000;
/** Doubling zero stays zero, so exponential backoff without a written delay starts at one second. */
export const DEFAULT_EXPONENTIAL_BASE_MS = 1000;

export function defaultBaseDelayMs(strategy: unknown): number {
  return strategy === 'exponential' ? DEFAULT_EXPONENTIAL_BASE_MS : 0;
}

const optionalMs = (value: string | number | undefined): number | undefined => (value === undefined ? undefined : parseDuration(value));
const texts = (record: Readonly<Record<string, string | number | boolean>> | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(record ?? {}).map(([key, value]) => [key, String(value)]));

/** Optional fields that are absent stay absent (not `undefined`), so normalised definitions compare and serialise cleanly. */
function withOptional<T extends object>(fields: T, optional: Record<string, unknown>): T {
  return { ...fields, ...Object.fromEntries(Object.entries(optional).filter(([, value]) => value !== undefined)) };
}

/** A schema-valid definition as the engine reads it: durations in ms, defaults filled in. */
export function normalizeJobDefinition(raw: RawJobDefinition): JobDefinition {
  return withOptional(
    {
      jobType: raw.job_type,
      priority: raw.priority ?? DEFAULT_PRIORITY,
      retry: raw.retry ?? 0,
      delayBetweenRetriesMs: optionalMs(raw.delay_between_retries) ?? 0,
      jobVariables: { ...raw.job_variables },
      tags: jobTagList(raw.tags),
      triggers: [...(raw.triggers ?? [])],
      requiredParams: [...(raw.required_params ?? [])],
      tasks: raw.tasks.map(normalizeTask),
    },
    {
      description: raw.description,
      maxConcurrency: raw.max_concurrency,
      timeoutMs: optionalMs(raw.timeout),
      cronTrigger: raw.cron_trigger,
      resources: formicaryResources(raw.resources),
      scheduling: normalizeScheduling(raw),
      notify: raw.notify,
      webhook: raw.webhook,
      skipIf: skipCondition(raw.skip_if),
      retryBackoffPolicy: raw.retry_backoff_policy,
      circuitBreaker: raw.circuit_breaker,
      semVersion: raw.sem_version === undefined ? undefined : String(raw.sem_version),
    },
  );
}

/** Formicary's HTTP tasks may give the URL as the first script line instead of `url`. */
function httpUrl(raw: RawTaskDefinition, method: string): { readonly url?: string; readonly script: readonly string[] } {
  const script = raw.script ?? [];
  if (raw.url !== undefined || !method.startsWith('HTTP_') || script.length === 0) return { url: raw.url, script };
  return { url: script[0]!.trim(), script: script.slice(1) };
}

function normalizeTask(raw: RawTaskDefinition): TaskDefinition {
  const method = raw.method ?? defaultMethod(raw);
  const http = httpUrl(raw, method);
  const backoffInput = raw.backoff;
  const strategy = typeof backoffInput === 'string' ? backoffInput : (backoffInput?.strategy ?? 'fixed');
  const delayBetweenRetriesMs = optionalMs(raw.delay_between_retries) ?? defaultBaseDelayMs(strategy);
  const maxDelay = typeof backoffInput === 'object' ? optionalMs(backoffInput.max_delay) : undefined;
  const jitter = typeof backoffInput === 'object' ? backoffInput.jitter : undefined;
  const backoff: Backoff = {
    strategy,
    maxDelayMs: maxDelay ?? (strategy === 'fixed' ? delayBetweenRetriesMs : Math.max(DEFAULT_MAX_DELAY_MS, delayBetweenRetriesMs)),
    jitter: jitter ?? strategy === 'exponential',
  };
  return withOptional(
    {
      taskType: raw.task_type,
      method,
      script: [...http.script],
      environment: texts(raw.environment),
      variables: { ...raw.variables },
      retry: raw.retry ?? 0,
      delayBetweenRetriesMs,
      backoff,
      onExitCode: { ...raw.on_exit_code },
      needs: [...(raw.needs ?? [])],
      dependencies: [...(raw.dependencies ?? [])],
      alwaysRun: raw.always_run ?? false,
      allowFailure: raw.allow_failure ?? false,
      tags: [...(raw.tags ?? [])],
      headers: texts(raw.headers),
      query: texts(raw.query),
      beforeScript: [...(raw.before_script ?? [])],
      afterScript: [...(raw.after_script ?? [])],
      hostNetwork: raw.host_network ?? false,
      privileged: raw.privileged ?? false,
      services: [...(raw.services ?? [])],
      placement: withOptional(
        { nodeSelector: texts(raw.node_selector), podLabels: texts(raw.pod_labels) },
        { tolerations: raw.tolerations, affinity: raw.affinity },
      ),
      reportStdout: raw.report_stdout ?? false,
      awaitForkedTasks: [...(raw.await_forked_tasks ?? [])],
    },
    {
      description: raw.description,
      timeoutMs: optionalMs(raw.timeout),
      onCompleted: raw.on_completed,
      onFailed: raw.on_failed,
      url: http.url,
      // Formicary's rule: a POST or PUT without a body sends the task's variables.
      body: raw.body ?? (/^HTTP_(POST|PUT)_/.test(method) && raw.variables !== undefined ? { ...raw.variables } : undefined),
      container: raw.container,
      workingDir: raw.working_dir,
      artifacts: raw.artifacts,
      cache: raw.cache,
      resources: formicaryResources(raw.resources),
      scheduling: normalizeScheduling(raw),
      skipIf: skipCondition(raw.skip_if, raw.except),
      forkJobType: raw.fork_job_type,
      forkJobVersion: raw.fork_job_version === undefined ? undefined : String(raw.fork_job_version),
      subWorkflow: raw.sub_workflow,
      fanOut: raw.fan_out,
      approvalPolicy: raw.approval_policy,
      messaging:
        raw.messaging_request_queue === undefined
          ? undefined
          : withOptional({ requestQueue: raw.messaging_request_queue }, { replyQueue: raw.messaging_reply_queue }),
      webhook: raw.webhook,
      notify: raw.notify,
      retryBackoffPolicy: raw.retry_backoff_policy,
      circuitBreaker: raw.circuit_breaker,
    },
  );
}

import { parseDuration } from './duration.js';
import type { Backoff, JobDefinition, TaskDefinition } from './model.js';
import type { RawJobDefinition, RawTaskDefinition } from './schema.js';

export const DEFAULT_PRIORITY = 50;
export const DEFAULT_METHOD = 'SHELL';
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
      tags: [...(raw.tags ?? [])],
      tasks: raw.tasks.map(normalizeTask),
    },
    { description: raw.description, maxConcurrency: raw.max_concurrency, timeoutMs: optionalMs(raw.timeout) },
  );
}

function normalizeTask(raw: RawTaskDefinition): TaskDefinition {
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
      method: raw.method ?? DEFAULT_METHOD,
      script: [...(raw.script ?? [])],
      environment: texts(raw.environment),
      variables: { ...raw.variables },
      retry: raw.retry ?? 0,
      delayBetweenRetriesMs,
      backoff,
      onExitCode: { ...raw.on_exit_code },
      dependencies: [...(raw.dependencies ?? [])],
      alwaysRun: raw.always_run ?? false,
      allowFailure: raw.allow_failure ?? false,
      tags: [...(raw.tags ?? [])],
      headers: texts(raw.headers),
      query: texts(raw.query),
    },
    {
      description: raw.description,
      timeoutMs: optionalMs(raw.timeout),
      onCompleted: raw.on_completed,
      onFailed: raw.on_failed,
      url: raw.url,
      body: raw.body,
    },
  );
}

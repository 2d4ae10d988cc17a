import * as z from 'zod';
import { DURATION_HINT, DURATION_PATTERN, formatDuration, MAX_DURATION_MS, MAX_DURATION_SECONDS, unboundedMs } from './duration.js';
import { BUILT_IN_METHODS, ROUTE_STATES } from './model.js';

/**
 * The definition as written (snake_case, durations as text): the single source of truth for both
 * the validator and the published JSON Schema. Cross-field rules that a JSON Schema cannot say
 * (references, cycles, reachability, methods known to this queen) live in semantics.ts.
 */

export const MAX_TASKS = 100;
export const MAX_RETRY = 10_000;

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
const IDENTIFIER_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** An exit code (a process's or an HTTP status, written without leading zeros so it matches the code as text) or the state an attempt ended in. */
const EXIT_KEY_PATTERN = /^(?:0|-?[1-9]\d{0,3}|COMPLETED|FAILED)$/;

const name = (what: string) =>
  z.string().regex(NAME_PATTERN, { error: `${what} must be 1-100 letters, digits, '_', '.' or '-', starting with a letter or digit` });

const duration = (description: string) =>
  z
    .union(
      [
        z
          .int({ error: `expected ${DURATION_HINT}` })
          .min(0, { error: `expected ${DURATION_HINT}` })
          .max(MAX_DURATION_SECONDS),
        z.string().regex(new RegExp(DURATION_PATTERN), { error: `expected ${DURATION_HINT}` }),
      ],
      {
        error: `expected ${DURATION_HINT}`,
      },
    )
    .refine((value) => (unboundedMs(value) ?? 0) <= MAX_DURATION_MS, {
      error: `duration too long: at most ${formatDuration(MAX_DURATION_MS)}`,
    })
    .meta({ description });

const positiveDuration = (description: string) =>
  duration(description).refine((value) => unboundedMs(value) !== 0, { error: 'must be longer than zero' });

const retries = (description: string) => z.int().min(0).max(MAX_RETRY).meta({ description });

/** Scalars are accepted where a string is meant (`PORT: 8080`) and kept as their text. */
const scalar = z.union([z.string(), z.number(), z.boolean()], { error: 'expected a string, number or boolean' });

const variables = (description: string) =>
  z
    .record(
      z.string().regex(IDENTIFIER_PATTERN, { error: 'variable names are letters, digits and _, not starting with a digit' }),
      z.json(),
    )
    .meta({ description });

const tags = (description: string) => z.array(z.string().min(1)).meta({ description });

const route = (description: string) => name('a route target').meta({ description });

export const backoffStrategies = ['fixed', 'exponential'] as const;

const backoffObject = z.strictObject({
  strategy: z
    .enum(backoffStrategies)
    .meta({ description: '`fixed` waits delay_between_retries each time; `exponential` doubles it per failed attempt.' }),
  max_delay: duration('Upper bound of one wait (default 5m, never below delay_between_retries).').optional(),
  jitter: z
    .boolean()
    .meta({ description: 'Full jitter: wait a uniformly random time between zero and the computed delay (default: true for exponential).' })
    .optional(),
});

export const backoffSchema = z
  .union([z.enum(backoffStrategies), backoffObject])
  .meta({ description: 'How the wait between attempts grows: `fixed`, `exponential`, or {strategy, max_delay, jitter}.' });

export const taskSchema = z
  .strictObject({
    task_type: name('task_type').meta({ description: 'The task name, unique in the job; routes and dependencies refer to it.' }),
    method: z
      .string()
      .min(1)
      .meta({ description: 'The executor that runs the task (default SHELL).', examples: [...BUILT_IN_METHODS] })
      .optional(),
    description: z.string().optional(),
    script: z
      .array(z.string({ error: "expected a string (quote a script line that contains ': ' or starts with a special character)" }))
      .meta({ description: 'SHELL: the lines, run in order by one `sh -e`; templated.' })
      .optional(),
    environment: z
      .record(
        z.string().regex(IDENTIFIER_PATTERN, { error: 'environment names are letters, digits and _, not starting with a digit' }),
        scalar,
      )
      .meta({ description: 'Environment variables of the SHELL process (values templated).' })
      .optional(),
    variables: variables('Task variables, visible to templates of this task (after request params).').optional(),
    timeout: positiveDuration('One attempt is killed after this long.').optional(),
    retry: retries('Further attempts after the first one fails (default 0); EXECUTING polls also consume them.').optional(),
    delay_between_retries: duration('Wait before the next attempt (default 0, or 1s with exponential backoff).').optional(),
    backoff: backoffSchema.optional(),
    on_completed: route('The task to run when this one completes.').optional(),
    on_failed: route('The task to run when this one fails for good.').optional(),
    on_exit_code: z
      .record(
        z.string().regex(EXIT_KEY_PATTERN, { error: 'expected an exit code (e.g. 0, 404) or COMPLETED / FAILED' }),
        route('A task, or COMPLETED, FAILED, FATAL, EXECUTING.'),
      )
      .meta({ description: `Exit code (or COMPLETED/FAILED) to a task type or one of ${ROUTE_STATES.join(', ')}.` })
      .optional(),
    dependencies: z
      .array(name('a dependency'))
      .meta({ description: 'Tasks that must all end before this one runs (AND-join).' })
      .optional(),
    always_run: z.boolean().meta({ description: 'Run even when the job is failing (cleanup).' }).optional(),
    allow_failure: z.boolean().meta({ description: 'A failure of this task does not fail the job.' }).optional(),
    tags: tags('Only ants with all these tags run the task.').optional(),
    url: z.string().min(1).meta({ description: 'HTTP methods: the URL (templated).' }).optional(),
    headers: z.record(z.string().min(1), scalar).meta({ description: 'HTTP methods: request headers (values templated).' }).optional(),
    query: z.record(z.string().min(1), scalar).meta({ description: 'HTTP methods: query parameters (values templated).' }).optional(),
    body: z.json().meta({ description: 'HTTP_POST_JSON / HTTP_PUT_JSON: the JSON body (strings templated).' }).optional(),
  })
  .meta({ description: 'One task of the job.' });

export const jobSchema = z
  .strictObject({
    job_type: name('job_type').meta({ description: 'The job name; applying a changed definition makes a new version.' }),
    description: z.string().optional(),
    priority: z
      .int()
      .min(0)
      .max(100)
      .meta({ description: 'Default priority of requests, 0-100 (default 50); higher runs first.' })
      .optional(),
    max_concurrency: z.int().min(1).meta({ description: 'At most this many requests of this job type execute at once.' }).optional(),
    timeout: positiveDuration('The whole job fails with "job timeout" after this long.').optional(),
    retry: retries('Whole-job retries: a FAILED job is restarted (soft) up to this many times.').optional(),
    delay_between_retries: duration('Wait before a job retry.').optional(),
    job_variables: variables('Variables visible to every task (after request params and task variables).').optional(),
    tags: tags('Labels of the job type.').optional(),
    tasks: z
      .array(taskSchema)
      .min(1)
      .max(MAX_TASKS)
      .meta({ description: `The tasks, 1 to ${MAX_TASKS}, in order.` }),
  })
  .meta({ title: 'Myrmex job definition', description: 'A Formicary-compatible job definition run by the Myrmex orchestrator.' });

export type RawJobDefinition = z.output<typeof jobSchema>;
export type RawTaskDefinition = z.output<typeof taskSchema>;

export const JOB_KEYS: readonly string[] = Object.keys(jobSchema.shape);
export const TASK_KEYS: readonly string[] = Object.keys(taskSchema.shape);
export const BACKOFF_KEYS: readonly string[] = Object.keys(backoffObject.shape);

/** The JSON Schema (draft 2020-12) editors use; generated from the same zod source as the validator. */
export function jobDefinitionJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(jobSchema, { target: 'draft-2020-12', io: 'input' }) as Record<string, unknown>;
}

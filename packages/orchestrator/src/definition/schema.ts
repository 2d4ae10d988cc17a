import * as z from 'zod';
import { circuitBreakerField } from './circuit-breaker.js';
import { DURATION_HINT, DURATION_PATTERN, formatDuration, MAX_DURATION_MS, MAX_DURATION_SECONDS, unboundedMs } from './duration.js';
import {
  approvalPolicySchema,
  artifactsSchema,
  backoffPolicySchema,
  cacheSchema,
  containerSchema,
  fanOutSchema,
  notifySchema,
  placementKeys,
  serviceSchema,
  subWorkflowSchema,
  templatedDuration,
  triggerSchema,
  webhookSchema,
} from './formicary-keys.js';
import { CONTROL_TARGETS, DEFINITION_METHODS, EXIT_STATES, ROUTE_STATES } from './model.js';
import { jobSchedulingKeys, resourcesField, taskSchedulingKeys } from './scheduling.js';

/**
 * The definition as written (snake_case, durations as text): the single source of truth for both
 * the validator and the published JSON Schema. Cross-field rules that a JSON Schema cannot say
 * (references, cycles, reachability, methods known to this queen) live in semantics.ts.
 */

export const MAX_TASKS = 100;
export const MAX_RETRY = 10_000;

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
const IDENTIFIER_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Formicary allows '-' and '.' in variable names (`video-quality`); templates reach them with `index . "video-quality"`. */
const VARIABLE_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
/**
 * An exit code (a process's or an HTTP status, written without leading zeros so it matches the code as text),
 * the state an attempt ended in, a MANUAL decision, or an ERR_ code a task reports.
 */
const EXIT_KEY_PATTERN = new RegExp(`^(?:0|-?[1-9]\\d{0,3}|${EXIT_STATES.join('|')}|ERR_[A-Z0-9_]+)$`);

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
      z.string().regex(VARIABLE_PATTERN, { error: "variable names are letters, digits, '_', '-' and '.', starting with a letter or '_'" }),
      z.json(),
    )
    .meta({ description });

const tags = (description: string) => z.array(z.string().min(1)).meta({ description });
/** Formicary writes job tags as one string (`tags: ci, nightly`); a list is accepted too. */
const jobTags = (description: string) => z.union([z.string(), z.array(z.string().min(1))]).meta({ description });
/** skip_if / except: true, or a template that renders to "true" when the work should be skipped. */
const condition = (description: string) => z.union([z.boolean(), z.string(), z.null()]).meta({ description });
const taskNames = (description: string) => z.array(name('a task name')).meta({ description });

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
      .meta({
        description: 'The executor that runs the task (default SHELL, or KUBERNETES when the task has a container, as in Formicary).',
        examples: [...DEFINITION_METHODS],
      })
      .optional(),
    description: z.string().optional(),
    script: z
      .array(z.string({ error: "expected a string (quote a script line that contains ': ' or starts with a special character)" }))
      .meta({
        description: 'SHELL, DOCKER, KUBERNETES: the lines, run in order by one `sh -e`; HTTP: the first line may be the URL; templated.',
      })
      .optional(),
    before_script: z.array(z.string()).meta({ description: 'Lines run before script, in the same shell.' }).optional(),
    after_script: z
      .array(z.string())
      .meta({ description: 'Lines run after script, even when it failed; their failure is logged, not fatal.' })
      .optional(),
    container: containerSchema.optional(),
    working_dir: z
      .string()
      .min(1)
      .meta({ description: 'The directory script runs in (inside the container for DOCKER/KUBERNETES).' })
      .optional(),
    host_network: z.boolean().meta({ description: "The container shares the ant's network." }).optional(),
    privileged: z.boolean().meta({ description: 'Privileged container: refused unless the ant allows it.' }).optional(),
    services: z.array(serviceSchema).meta({ description: 'Sidecar containers on a network shared with the task.' }).optional(),
    ...placementKeys,
    artifacts: artifactsSchema.optional(),
    cache: cacheSchema.optional(),
    resources: resourcesField.optional(),
    circuit_breaker: circuitBreakerField.optional(),
    ...taskSchedulingKeys,
    report_stdout: z
      .boolean()
      .meta({ description: "The task's standard output becomes its result (and its outputs when it is JSON)." })
      .optional(),
    skip_if: condition('Skip the task (as completed) when true or when the template renders to "true".').optional(),
    except: condition('Same as skip_if (Formicary name).').optional(),
    fork_job_type: name('fork_job_type').meta({ description: 'FORK_JOB: the job type started as a child.' }).optional(),
    fork_job_version: z.union([z.string(), z.number()]).meta({ description: 'FORK_JOB: the child definition version.' }).optional(),
    sub_workflow: subWorkflowSchema.optional(),
    await_forked_tasks: taskNames('AWAIT_FORKED_JOB: the FORK_JOB tasks whose children are awaited.').optional(),
    fan_out: fanOutSchema.optional(),
    approval_policy: approvalPolicySchema.optional(),
    messaging_request_queue: z.string().min(1).meta({ description: 'MESSAGING: the subject the request is published on.' }).optional(),
    messaging_reply_queue: z.string().min(1).meta({ description: 'MESSAGING: the subject the worker replies on.' }).optional(),
    webhook: webhookSchema.optional(),
    notify: notifySchema.optional(),
    retry_backoff_policy: backoffPolicySchema.optional(),
    delay: templatedDuration('PAUSE_JOB: how long the job pauses before it resumes (default: delay_between_retries).').optional(),
    debug: z.boolean().meta({ description: "More logging for this task (the ant logs each script line's start)." }).optional(),
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
        z
          .string()
          .regex(EXIT_KEY_PATTERN, { error: 'expected an exit code (e.g. 0, 404), COMPLETED, FAILED, APPROVED, REJECTED or ERR_<CODE>' }),
        route(`A task, or one of ${[...ROUTE_STATES, ...CONTROL_TARGETS].join(', ')}, ERR_<CODE>.`),
      )
      .meta({ description: `Exit code (or COMPLETED/FAILED) to a task type or one of ${ROUTE_STATES.join(', ')}.` })
      .optional(),
    dependencies: z
      .array(name('a dependency'))
      .meta({ description: "Tasks whose artifacts are downloaded before this one runs (Formicary's and GitLab's meaning); not a join." })
      .optional(),
    needs: z
      .array(name('a needed task'))
      .meta({ description: 'Tasks that must all end before this one runs (AND-join), as in GitLab.' })
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
    tags: jobTags('Labels of the job type: a list, or one string of comma- or space-separated labels (Formicary).').optional(),
    cron_trigger: z
      .string()
      .min(1)
      .meta({ description: 'Submit the job on this cron schedule (5-7 fields, seconds first when 6 or 7).' })
      .optional(),
    triggers: z.array(triggerSchema).meta({ description: 'Events that submit the job.' }).optional(),
    resources: resourcesField.optional(),
    circuit_breaker: circuitBreakerField.optional(),
    ...jobSchedulingKeys,
    notify: notifySchema.optional(),
    webhook: webhookSchema.optional(),
    skip_if: condition('Skip the whole job (as completed) when true or when the template renders to "true".').optional(),
    required_params: z
      .array(z.string().min(1))
      .meta({ description: 'Params a request must give; a request without them is refused (400).' })
      .optional(),
    variables: variables('Declared params with their types (Formicary); recorded.').optional(),
    retry_backoff_policy: backoffPolicySchema.optional(),
    sem_version: z
      .union([z.string(), z.number()])
      .meta({ description: 'The version label of the definition (recorded, not interpreted).' })
      .optional(),
    public_plugin: z.boolean().meta({ description: 'Formicary plugin marketplace flag (recorded, no effect).' }).optional(),
    url: z.string().meta({ description: 'A link to the project the job builds (recorded).' }).optional(),
    methods: z.string().meta({ description: 'Formicary: methods the job uses (recorded; each task names its own).' }).optional(),
    dynamic_template_tasks: z
      .boolean()
      .meta({ description: 'Formicary: tasks are generated by the template (recorded; Myrmex always renders templates).' })
      .optional(),
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

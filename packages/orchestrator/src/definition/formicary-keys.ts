import * as z from 'zod';
import { DURATION_HINT, DURATION_PATTERN, unboundedMs } from './duration.js';

/**
 * The parts of a definition that Formicary's job definitions use beyond a plain task graph:
 * containers and their Kubernetes placement, artifacts and caches, fork/join, fan-out, approvals,
 * triggers, consumable resources and notifications. Shapes follow Formicary's documentation and its
 * own example definitions; what Myrmex does with each key is in docs/orchestrator-definitions.md.
 */

/** Artifact and cache expiry, approval SLAs: may be longer than a timer's 24 days (10 years at most). */
const MAX_LONG_DURATION_MS = 10 * 365 * 24 * 3_600_000;

export const longDuration = (description: string) =>
  z
    .union([z.int().min(0), z.string().regex(new RegExp(DURATION_PATTERN))], { error: `expected ${DURATION_HINT}` })
    .refine((value) => (unboundedMs(value) ?? Number.POSITIVE_INFINITY) <= MAX_LONG_DURATION_MS, {
      error: 'duration too long: at most 10 years',
    })
    .meta({ description });

const text = (description: string) => z.string().meta({ description });
/** Kubernetes quantities (`500m`, `1Gi`, `2`) are kept as written; the container engine converts them. */
export const quantity = (description: string) =>
  z
    .union([
      z
        .string()
        .regex(/^\d+(?:\.\d+)?(?:m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/, { error: 'expected a quantity such as 500m, 1, 256Mi or 1Gi' }),
      z.number().nonnegative(),
    ])
    .meta({ description });

const stringList = (description: string) => z.array(z.string().min(1)).meta({ description });
const stringMap = (description: string) =>
  z.record(z.string().min(1), z.union([z.string(), z.number(), z.boolean()])).meta({ description });

const volumeMount = z.strictObject({
  name: z.string().min(1),
  mount_path: z.string().min(1),
  read_only: z.boolean().optional(),
});

export const volumesSchema = z
  .strictObject({
    empty_dir: z.array(volumeMount).meta({ description: 'Scratch directories, empty when the task starts.' }).optional(),
    host_path: z
      .array(volumeMount.extend({ host_path: z.string().min(1) }))
      .meta({ description: "Directories of the ant's machine, mounted only when the ant allows host paths." })
      .optional(),
    projected: z
      .array(volumeMount.extend({ sources: z.array(z.json()) }))
      .meta({ description: 'Kubernetes projected volumes (service account tokens); refused on a container engine.' })
      .optional(),
    secret: z.array(volumeMount.extend({ secret_name: z.string().optional() })).optional(),
    config_map: z.array(volumeMount.extend({ config_map_name: z.string().optional() })).optional(),
  })
  .meta({ description: 'Volumes mounted into the container (Formicary/Kubernetes names).' });

const resourceLimits = {
  cpu_request: quantity('CPU the container asks for (Kubernetes request; a container engine uses it as a share).').optional(),
  cpu_limit: quantity('CPU cap (e.g. 1, 500m).').optional(),
  memory_request: quantity('Memory the container asks for.').optional(),
  memory_limit: quantity('Memory cap (e.g. 512Mi, 1Gi); the container is killed beyond it.').optional(),
  ephemeral_storage_request: quantity('Scratch disk asked for (Kubernetes only; recorded).').optional(),
  ephemeral_storage_limit: quantity('Scratch disk cap (Kubernetes only; recorded).').optional(),
};

export const pullPolicies = ['always', 'if-not-present', 'never', 'Always', 'IfNotPresent', 'Never'] as const;

export const containerSchema = z
  .strictObject({
    image: z.string().min(1).meta({ description: 'The image the task runs in (DOCKER, KUBERNETES).' }),
    image_pull_policy: z.enum(pullPolicies).meta({ description: 'When to pull the image (default if-not-present).' }).optional(),
    pull_policy: z.enum(pullPolicies).meta({ description: 'Same as image_pull_policy.' }).optional(),
    volumes: volumesSchema.optional(),
    ...resourceLimits,
  })
  .meta({ description: 'The main container of a DOCKER or KUBERNETES task.' });

export const serviceSchema = z
  .strictObject({
    name: z.string().min(1).meta({ description: 'The sidecar name.' }),
    alias: z.string().min(1).meta({ description: 'Host name the task reaches the sidecar by (default: name).' }).optional(),
    image: z.string().min(1),
    entrypoint: z.array(z.string()).optional(),
    command: z.array(z.string()).optional(),
    environment: stringMap('Environment of the sidecar.').optional(),
    ports: z
      .array(z.union([z.int().min(1).max(65535), z.strictObject({ number: z.int().min(1).max(65535), name: z.string().optional() })]))
      .optional(),
    volumes: volumesSchema.optional(),
    ...resourceLimits,
  })
  .meta({ description: "A sidecar container on the task's network, started before the task and removed after it." });

export const artifactsSchema = z
  .strictObject({
    paths: stringList('Files or directories, relative to the working directory, collected after the task (glob patterns allowed).'),
    expires_after: longDuration('Delete the stored artifacts this long after the task ends.').optional(),
    expire_after: longDuration('Same as expires_after (Formicary spells it both ways).').optional(),
    when: z
      .enum(['always', 'on_success', 'on_failure'])
      .meta({ description: 'Collect after success (default), failure or always.' })
      .optional(),
  })
  .meta({ description: 'What the task leaves for later tasks and for download.' });

export const cacheSchema = z
  .strictObject({
    key: text('Cache key; may use {{checksum "file"}} so the cache changes when the file does.').optional(),
    key_paths: stringList('Files whose checksums form the key (Formicary).').optional(),
    keys: stringList('Same as key_paths.').optional(),
    paths: stringList('Directories restored before the task and saved after it.'),
    expires_after: longDuration('Delete the cache this long after it was saved.').optional(),
  })
  .meta({ description: 'Directories kept between jobs of the same type, keyed by content.' });

const param = z.strictObject({ name: z.string().min(1), value: z.json() });

export const subWorkflowSchema = z
  .strictObject({
    job_type: z.string().min(1).meta({ description: 'The child job type (default: the task fork_job_type).' }).optional(),
    job_version: z.string().optional(),
    input_params: z.array(param).meta({ description: 'Params of the child job (values templated in the parent).' }).optional(),
    output_variables: z
      .array(param)
      .meta({ description: "Child outputs copied back: name is the child's output, value the parent's variable." })
      .optional(),
    wait_for_completion: z.boolean().meta({ description: 'Wait for the child (default true); false forks it.' }).optional(),
  })
  .meta({ description: 'A child job run as this task.' });

export const fanOutSchema = z
  .strictObject({
    source: z
      .string()
      .min(1)
      .meta({ description: 'The job variable or param holding the list (a JSON array) to fan out over.' })
      .optional(),
    items: z.array(z.json()).meta({ description: 'The list written inline.' }).optional(),
    matrix: z.record(z.string(), z.array(z.json())).meta({ description: 'Every combination of these lists.' }).optional(),
    item_var: z.string().min(1).meta({ description: 'The variable each child sees its item as (default item).' }).optional(),
    fork_job_type: z.string().min(1).meta({ description: 'Children are jobs of this type; without it, copies of this task.' }).optional(),
    fork_job_version: z.string().optional(),
    max_parallel: z.int().min(1).meta({ description: 'At most this many children at once.' }).optional(),
    fail_fast: z.boolean().meta({ description: 'Cancel the other children at the first failure.' }).optional(),
    success_threshold: z.number().min(0).max(100).meta({ description: 'Percent of children that must succeed (default 100).' }).optional(),
  })
  .meta({ description: 'Run N children over a list or matrix and join them.' });

export const approvalTimeoutActions = ['AUTO_APPROVE', 'AUTO_REJECT', 'ESCALATE'] as const;

export const approvalPolicySchema = z
  .strictObject({
    min_approvals: z.int().min(1).meta({ description: 'Approvals needed (default 1).' }).optional(),
    required_approvers: stringList('Users who must approve.').optional(),
    required_roles: stringList('Roles an approver must have.').optional(),
    require_unanimous: z.boolean().meta({ description: 'Every required approver must approve; one rejection rejects.' }).optional(),
    sla_deadline: longDuration('How long a decision may take.').optional(),
    timeout_action: z.enum(approvalTimeoutActions).meta({ description: 'What happens when the SLA passes.' }).optional(),
    escalation_recipients: z.union([z.string(), z.array(z.string())]).optional(),
    escalation_message: z.string().optional(),
  })
  .meta({ description: 'Who approves a MANUAL task and what happens without a decision.' });

export const backoffPolicySchema = z
  .strictObject({
    min: longDuration('First wait.'),
    max: longDuration('Longest wait.').optional(),
    factor: z.number().min(1).max(100).meta({ description: 'Growth per attempt.' }).optional(),
    jitter: z.boolean().optional(),
  })
  .meta({ description: "Formicary's retry backoff: min * factor^attempt, capped at max." });

export const resourcesSchema = z
  .strictObject({
    resource_type: z.string().min(1).meta({ description: 'The kind of consumable resource (License, NetworkBandwidth, ...).' }),
    platform: z.string().optional(),
    tags: z.array(z.string()).optional(),
    value: z.int().min(1).meta({ description: 'Units held while the task or job runs.' }),
    extract_config: z
      .strictObject({ properties: z.array(z.string()).optional(), context_prefix: z.string().optional() })
      .meta({ description: 'Resource properties copied into the context under context_prefix.' })
      .optional(),
  })
  .meta({ description: 'Units of a named counter that must be free before the work starts; released on every exit path.' });

const notifyChannel = z.strictObject({
  recipients: z.union([z.string(), z.array(z.string())]),
  when: z.enum(['always', 'never', 'none', 'onSuccess', 'onFailure', 'on_success', 'on_failure']).optional(),
});

export const notifySchema = z
  .strictObject({
    email: notifyChannel.optional(),
    slack: notifyChannel.optional(),
    webhook: notifyChannel.optional(),
    except: z
      .union([z.boolean(), z.string(), z.null()])
      .meta({ description: 'No notification when true or when the template renders to "true".' })
      .optional(),
  })
  .meta({ description: 'Who hears about the outcome (email, slack, webhook) and when.' });

/** A duration, or a template that renders to one when the task runs (`"{{.PollInterval}}s"`). */
export const templatedDuration = (description: string) =>
  z
    .union([z.int().min(0), z.string().regex(new RegExp(DURATION_PATTERN)), z.string().regex(/\{\{.*\}\}/)], {
      error: `expected ${DURATION_HINT}, or a template that renders to one`,
    })
    .meta({ description });

export const webhookSchema = z
  .strictObject({
    url: z.string().min(1),
    headers: stringMap('Request headers (templated).').optional(),
    query: stringMap('Query parameters (templated).').optional(),
  })
  .meta({ description: 'An HTTP POST with the job or task outcome.' });

const triggerCommon = {
  name: z.string().min(1).meta({ description: 'Unique within the definition; names the webhook route and the made jobs.' }),
  params: z.record(z.string(), z.json()).meta({ description: "The job's params: templates over the event." }).optional(),
  filter: z.string().meta({ description: 'A template: the event starts a job only when it renders to "true".' }).optional(),
  dedup_key: z
    .string()
    .meta({ description: 'A template naming the event: a second event with the same key starts no second job (409).' })
    .optional(),
  rate_limit: z
    .strictObject({ max: z.int().min(1), window: longDuration('Per this long (default 1m).').optional() })
    .meta({ description: 'At most max jobs per window, counted across queens; more answer 429.' })
    .optional(),
  description: z.string().optional(),
};

/** The upstream job states a `type: job` trigger may follow. */
export const jobTriggerStates = ['COMPLETED', 'FAILED', 'CANCELLED'] as const;

export const triggerSchema = z
  .discriminatedUnion(
    'type',
    [
      z.strictObject({
        type: z.literal('webhook'),
        ...triggerCommon,
        path: z.string().meta({ description: 'Informational (Formicary); the route is POST /api/webhooks/<job_type>/<name>.' }).optional(),
        auth: z
          .strictObject({
            method: z.enum(['hmac_sha256']).meta({ description: 'HMAC-SHA256 of the raw body with the secret.' }),
            secret_config: z.string().min(1).meta({ description: "The secret's name among the organisation's secrets." }),
            header: z.string().min(1).meta({ description: 'The signature header (default X-Hub-Signature-256).' }).optional(),
          })
          .optional(),
      }),
      z.strictObject({
        type: z.literal('job'),
        ...triggerCommon,
        job_type: z.string().min(1).meta({ description: 'The upstream job type whose end starts this job.' }),
        states: z
          .array(z.enum(jobTriggerStates))
          .min(1)
          .meta({ description: 'Upstream end states that start it (default [COMPLETED]).' })
          .optional(),
      }),
      z.strictObject({
        type: z.literal('queue'),
        ...triggerCommon,
        topic: z.string().min(1),
        group: z.string().optional(),
        shared: z.boolean().optional(),
      }),
      z.strictObject({
        type: z.literal('s3'),
        ...triggerCommon,
        mode: z.enum(['poll', 'notification']).optional(),
        bucket: z.string().min(1),
        prefix: z.string().optional(),
        suffix: z.string().optional(),
        poll_interval: longDuration('How often the bucket is listed.').optional(),
        topic: z.string().optional(),
      }),
    ],
    { error: 'expected type webhook, job, queue or s3' },
  )
  .meta({ description: 'An event that submits this job; params are templates over the event.' });

/** Kubernetes placement keys: matched against ant labels when the task runs on a container engine. */
export const placementKeys = {
  node_selector: stringMap('Only ants whose labels include all these run the task.').optional(),
  tolerations: z
    .union([z.record(z.string(), z.json()), z.array(z.json())])
    .meta({ description: 'Kubernetes tolerations (matched against ant taints).' })
    .optional(),
  affinity: z
    .record(z.string(), z.json())
    .meta({ description: 'Kubernetes affinity (recorded; node affinity labels matched like node_selector).' })
    .optional(),
  pod_labels: stringMap('Labels put on the pod or container.').optional(),
  pod_annotations: stringMap('Annotations on the pod (Kubernetes only; labels on a container engine).').optional(),
  service_account: z.string().optional(),
};

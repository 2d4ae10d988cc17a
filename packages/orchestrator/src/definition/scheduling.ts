import * as z from 'zod';
import { DURATION_HINT, DURATION_PATTERN, formatDuration, MAX_DURATION_MS, MAX_DURATION_SECONDS, unboundedMs } from './duration.js';
import { resourcesSchema } from './formicary-keys.js';

type ResourcesSpec = z.output<typeof resourcesSchema>;

// The scheduling keys of a job or task definition (issue 13), read by @myrmex/scheduling profiles:
// resources to place by, a deadline, an expected runtime, a queue and tenant to share by, affinity to ant labels,
// and when a straggler gets a backup attempt.

const RESOURCE_NAME = /^[A-Za-z][A-Za-z0-9_./-]{0,62}$/;
/** ISO 8601 with an offset (a pattern, not a JSON Schema `format`: validators need not know formats). */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;
const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9_./-]{0,252}$/;

const duration = (description: string) =>
  z
    .union([z.int().min(0).max(MAX_DURATION_SECONDS), z.string().regex(new RegExp(DURATION_PATTERN))], {
      error: `expected ${DURATION_HINT}`,
    })
    .refine((value) => (unboundedMs(value) ?? 0) <= MAX_DURATION_MS, {
      error: `duration too long: at most ${formatDuration(MAX_DURATION_MS)}`,
    })
    .meta({ description });

/** cpu, memory, storage or any named resource, in the unit the ants advertise (cpu in cores, memory in MiB). */
export const quantitiesSchema = z
  .record(
    z.string().regex(RESOURCE_NAME, { error: 'resource names are letters, digits, _ . / -, starting with a letter' }),
    z.number({ error: 'expected a number' }).min(0).max(1e12),
  )
  .meta({ description: 'Quantities the task needs free on its ant: cpu (cores), memory (MiB), storage, or any named resource.' });

const matchExpression = z.strictObject({
  key: z.string().regex(LABEL_KEY, { error: 'expected an ant label name' }),
  operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt']),
  values: z.array(z.string()).optional(),
});
const matchExpressions = z.array(matchExpression).min(1).meta({ description: 'ANDed expressions on ant labels (Kubernetes operators).' });

const myrmexAffinity = z
  .strictObject({
    required: z
      .array(z.strictObject({ match_expressions: matchExpressions }))
      .min(1)
      .meta({ description: 'Terms, ORed: the ant must match one.' })
      .optional(),
    preferred: z
      .array(z.strictObject({ weight: z.int().min(1).max(100), match_expressions: matchExpressions }))
      .meta({ description: 'Terms that raise an ant\u2019s score by their weight when they match.' })
      .optional(),
    anti_affinity: z
      .array(z.string().min(1))
      .meta({ description: "Job types (or 'self') whose tasks must not share an ant with this one." })
      .optional(),
  })
  .meta({ description: 'Where the work may and would rather run, by ant labels.' });

/** Kubernetes' node affinity as Formicary passes it to a pod, matched against ant labels the same way. */
const kubernetesAffinity = z
  .strictObject({
    nodeAffinity: z.strictObject({
      requiredDuringSchedulingIgnoredDuringExecution: z
        .strictObject({ nodeSelectorTerms: z.array(z.strictObject({ matchExpressions: matchExpressions })).min(1) })
        .optional(),
      preferredDuringSchedulingIgnoredDuringExecution: z
        .array(z.strictObject({ weight: z.int().min(1).max(100), preference: z.strictObject({ matchExpressions: matchExpressions }) }))
        .optional(),
    }),
  })
  .meta({ description: "Kubernetes' node affinity (KUBERNETES tasks), matched against ant labels." });

export const affinitySchema = z.union([myrmexAffinity, kubernetesAffinity], {
  error:
    "expected { required, preferred, anti_affinity } with match_expressions, or Kubernetes' { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution, preferredDuringSchedulingIgnoredDuringExecution } }",
});

export const speculativeBackupSchema = z
  .union([
    z.number().min(1).max(100),
    z.strictObject({
      delay_threshold: z.number().min(1).max(100).meta({ description: 'Multiple of the expected runtime after which a backup starts.' }),
      resource_threshold: z.number().min(0).max(1).meta({ description: 'Only when this fraction of the cluster is free.' }).optional(),
    }),
  ])
  .meta({ description: 'A straggler past this multiple of its expected runtime gets a backup attempt; the first to finish wins.' });

/** An ISO 8601 time with an offset, or a duration after submission. */
export const deadlineSchema = z
  .union(
    [
      z
        .string()
        .regex(ISO_TIME)
        .refine((text) => Number.isFinite(Date.parse(text))),
      duration('After submission.'),
    ],
    {
      error: `expected an ISO 8601 time (2026-12-24T18:00:00Z) or ${DURATION_HINT}`,
    },
  )
  .meta({ description: 'When the job must be done: an ISO 8601 time, or a duration after submission.' });

const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, { error: 'expected a name of letters, digits, _ . -' });

/** `resources`: Formicary's counter of one resource type, or the scheduler's map of quantities. */
export const resourcesField = z.union([resourcesSchema, quantitiesSchema], {
  error: "expected quantities such as { cpu: 2, memory: 4096 }, or Formicary's { resource_type, value }",
});

/** Formicary's counter form of `resources`, or undefined for a map of quantities. */
export function formicaryResources(resources: z.output<typeof resourcesField> | undefined): ResourcesSpec | undefined {
  return resources !== undefined && 'resource_type' in resources ? (resources as ResourcesSpec) : undefined;
}

/** The keys a task may carry (besides `resources`). */
export const taskSchedulingKeys = {
  affinity: affinitySchema.optional(),
  estimated_runtime: duration('How long an attempt is expected to take (SJF, deadlines, stragglers, the wait estimate).').optional(),
  speculative_backup: speculativeBackupSchema.optional(),
};

/** The keys a job may carry: the task keys (defaults for its tasks) plus the job's own. */
export const jobSchedulingKeys = {
  ...taskSchedulingKeys,
  deadline: deadlineSchema.optional(),
  queue: name.meta({ description: 'The queue the job waits in (multilevel and capacity profiles).' }).optional(),
  tenant: name.meta({ description: 'Whose work this is, for fair share and quotas; a request may name its own.' }).optional(),
};

type Written = {
  resources?: object;
  affinity?: z.output<typeof affinitySchema>;
  estimated_runtime?: string | number;
  speculative_backup?: z.output<typeof speculativeBackupSchema>;
  deadline?: string | number;
  queue?: string;
  tenant?: string;
};

export interface MatchExpressionSpec {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Gt' | 'Lt';
  readonly values?: readonly string[];
}

/** The scheduling keys as the queen reads them: durations in ms. */
export interface SchedulingSpec {
  readonly resources?: Readonly<Record<string, number>>;
  readonly affinity?: {
    readonly required?: readonly (readonly MatchExpressionSpec[])[];
    readonly preferred?: readonly { readonly weight: number; readonly match: readonly MatchExpressionSpec[] }[];
    readonly antiAffinity?: readonly string[];
  };
  readonly estimatedRuntimeMs?: number;
  readonly speculativeBackup?: { readonly delayThreshold: number; readonly resourceThreshold?: number };
  /** An absolute deadline (epoch ms) or one relative to submission. */
  readonly deadline?: { readonly at: number } | { readonly afterMs: number };
  readonly queue?: string;
  readonly tenant?: string;
}

/** The normalised scheduling keys, or undefined when none is written. */
export function normalizeScheduling(raw: Written): SchedulingSpec | undefined {
  const spec: Record<string, unknown> = {};
  if (raw.resources && !('resource_type' in raw.resources)) spec.resources = { ...(raw.resources as Record<string, number>) };
  if (raw.affinity && 'nodeAffinity' in raw.affinity) {
    const node = raw.affinity.nodeAffinity;
    const required = node.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms.map((term) => term.matchExpressions);
    const preferred = node.preferredDuringSchedulingIgnoredDuringExecution?.map((term) => ({
      weight: term.weight,
      match: term.preference.matchExpressions,
    }));
    spec.affinity = { ...(required && { required }), ...(preferred && { preferred }) };
  } else if (raw.affinity) {
    const { required, preferred, anti_affinity } = raw.affinity;
    spec.affinity = {
      ...(required && { required: required.map((term) => term.match_expressions) }),
      ...(preferred && { preferred: preferred.map((term) => ({ weight: term.weight, match: term.match_expressions })) }),
      ...(anti_affinity && { antiAffinity: anti_affinity }),
    };
  }
  if (raw.estimated_runtime !== undefined) spec.estimatedRuntimeMs = unboundedMs(raw.estimated_runtime);
  if (raw.speculative_backup !== undefined) {
    const backup = raw.speculative_backup;
    spec.speculativeBackup =
      typeof backup === 'number'
        ? { delayThreshold: backup }
        : {
            delayThreshold: backup.delay_threshold,
            ...(backup.resource_threshold !== undefined && { resourceThreshold: backup.resource_threshold }),
          };
  }
  if (raw.deadline !== undefined) {
    const ms = unboundedMs(raw.deadline);
    spec.deadline = ms === undefined ? { at: Date.parse(String(raw.deadline)) } : { afterMs: ms };
  }
  if (raw.queue !== undefined) spec.queue = raw.queue;
  if (raw.tenant !== undefined) spec.tenant = raw.tenant;
  return Object.keys(spec).length === 0 ? undefined : (spec as SchedulingSpec);
}

/** The written keys back from a normalised spec (the definition document the API shows), but `resources`. */
export function schedulingDocument(spec: SchedulingSpec | undefined): Record<string, unknown> {
  if (!spec) return {};
  const { affinity, speculativeBackup, deadline } = spec;
  return defined({
    affinity:
      affinity &&
      defined({
        required: affinity.required?.map((match) => ({ match_expressions: match })),
        preferred: affinity.preferred?.map((term) => ({ weight: term.weight, match_expressions: term.match })),
        anti_affinity: affinity.antiAffinity,
      }),
    estimated_runtime: spec.estimatedRuntimeMs === undefined ? undefined : formatDuration(spec.estimatedRuntimeMs),
    speculative_backup:
      speculativeBackup &&
      defined({ delay_threshold: speculativeBackup.delayThreshold, resource_threshold: speculativeBackup.resourceThreshold }),
    deadline:
      deadline === undefined ? undefined : 'at' in deadline ? new Date(deadline.at).toISOString() : formatDuration(deadline.afterMs),
    queue: spec.queue,
    tenant: spec.tenant,
  });
}

const defined = (fields: Record<string, unknown>) => Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));

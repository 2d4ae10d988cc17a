import { derivedId, timeOrderedId } from '../domain/ids.js';
import type { TimelineEvent } from '../domain/types.js';
import type { JobStore } from '../store/store.js';
import type { WorkflowEventStore } from '../store/workflow-events.js';
import { createDerivedJob } from './derived-job.js';
import { DEFAULT_SIGNATURE_HEADER, decideTrigger, findWebhook, rateWindowMs, signatureMatches, TriggerTemplateError } from './triggers.js';

/** One POST to a webhook route, as received. */
export interface WebhookDelivery {
  /** A job type, or a trigger name unique among job types. */
  readonly target: string;
  /** The trigger's name, when the route gives job type and name. */
  readonly name?: string;
  /** The raw body: the signature is over these bytes. */
  readonly body: Buffer;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly query: Readonly<Record<string, string>>;
}

/** What a delivery did; every outcome names the job type and trigger once it is known. */
export type WebhookOutcome =
  | { readonly kind: 'created'; readonly jobType: string; readonly trigger: string; readonly jobId: string; readonly deliveryId?: string }
  | { readonly kind: 'filtered'; readonly jobType: string; readonly trigger: string }
  | { readonly kind: 'duplicate'; readonly jobType: string; readonly trigger: string; readonly jobId: string; readonly deliveryId: string }
  | { readonly kind: 'not_found'; readonly detail: string }
  | { readonly kind: 'unauthenticated'; readonly jobType: string; readonly trigger: string; readonly detail: string }
  | {
      readonly kind: 'rate_limited';
      readonly jobType: string;
      readonly trigger: string;
      readonly detail: string;
      readonly retryAfterS: number;
    }
  | { readonly kind: 'unprocessable'; readonly jobType: string; readonly trigger: string; readonly detail: string };

export interface WebhookDeps {
  readonly store: JobStore;
  readonly events: WorkflowEventStore;
  readonly committed: (events: readonly TimelineEvent[]) => void;
  /** The secret `name` of the organisation owning `jobType`; undefined when it has none by that name. */
  readonly secret: (jobType: string, name: string) => Promise<string | undefined>;
}

/** Headers senders name their delivery by (GitHub, Gitea/Gogs, generic), first found wins. */
export const DELIVERY_HEADERS = ['x-github-delivery', 'x-gitea-delivery', 'x-delivery-id', 'idempotency-key'] as const;

/**
 * A webhook delivery, Formicary's way with Myrmex's guarantees: the HMAC-SHA256 signature is checked
 * over the raw body (401 otherwise), the filter and params are rendered over `.Body`, `.Headers` and
 * `.Query`, and the event is named by the trigger's `dedup_key` or else the delivery id header. The job
 * id is derived from that name, so one event makes one job whichever queen (or retry) receives it: the
 * job table's unique key decides, and the loser answers `duplicate`. A rate limit is counted in the
 * store, across queens, in fixed windows; a duplicate is recognised before it is counted.
 */
export async function deliverWebhook(deps: WebhookDeps, delivery: WebhookDelivery): Promise<WebhookOutcome> {
  const found = findWebhook(await deps.store.latestDefinitions(), delivery.target, delivery.name);
  if (typeof found === 'string') return { kind: 'not_found', detail: found };
  const { definition, trigger } = found;
  const named = { jobType: definition.jobType, trigger: trigger.name };
  if (trigger.auth !== undefined) {
    const header = trigger.auth.header ?? DEFAULT_SIGNATURE_HEADER;
    const secret = await deps.secret(definition.jobType, trigger.auth.secret_config);
    if (secret === undefined) {
      return {
        kind: 'unauthenticated',
        ...named,
        detail: `the secret '${trigger.auth.secret_config}' (auth.secret_config) is not defined for job type ${definition.jobType}: no signature can be checked`,
      };
    }
    if (!signatureMatches(delivery.body, secret, delivery.headers[header.toLowerCase()])) {
      return {
        kind: 'unauthenticated',
        ...named,
        detail: `${header} must be sha256=<hex HMAC-SHA256 of the body under the secret '${trigger.auth.secret_config}'>: ${delivery.headers[header.toLowerCase()] === undefined ? 'the header is missing' : 'it does not match'}`,
      };
    }
  }
  let body: unknown;
  const text = delivery.body.toString('utf8');
  try {
    body = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    // Formicary reads a body that is no JSON as its text.
    body = text;
  }
  const headers = Object.fromEntries(Object.entries(delivery.headers).filter((entry): entry is [string, string] => entry[1] !== undefined));
  let decision: ReturnType<typeof decideTrigger>;
  try {
    decision = decideTrigger(trigger, { Body: body, Headers: headers, Query: delivery.query });
  } catch (error) {
    if (error instanceof TriggerTemplateError) return { kind: 'unprocessable', ...named, detail: error.message };
    throw error;
  }
  if (!decision.fire) return { kind: 'filtered', ...named };
  const deliveryId = decision.dedupKey ?? DELIVERY_HEADERS.map((h) => delivery.headers[h]).find((v) => v !== undefined && v !== '');
  const jobId = deliveryId === undefined ? timeOrderedId() : derivedId('webhook', definition.jobType, trigger.name, deliveryId);
  if (deliveryId !== undefined && (await deps.store.job(jobId)) !== undefined) return { kind: 'duplicate', ...named, jobId, deliveryId };
  const window = rateWindowMs(trigger);
  if (window !== undefined && trigger.rate_limit !== undefined) {
    const now = Date.now();
    const start = now - (now % window);
    const count = await deps.events.countEvent(`webhook:${definition.jobType}:${trigger.name}`, start, start + window);
    if (count > trigger.rate_limit.max) {
      return {
        kind: 'rate_limited',
        ...named,
        detail: `trigger '${trigger.name}' of ${definition.jobType} accepts ${trigger.rate_limit.max} deliveries per ${window / 1000}s (rate_limit)`,
        retryAfterS: Math.ceil((start + window - now) / 1000),
      };
    }
  }
  const org = await deps.events.definitionOrg(definition.jobType);
  const created = await createDerivedJob(deps.store, deps.committed, {
    id: jobId,
    definition,
    priority: definition.definition.priority,
    params: decision.params,
    ...(org === undefined ? {} : { org }),
  });
  if (deliveryId !== undefined) {
    await deps.events.link({ jobId, kind: 'webhook', origin: deliveryId, trigger: trigger.name, at: new Date() });
  }
  if (!created) return { kind: 'duplicate', ...named, jobId, deliveryId: deliveryId ?? jobId };
  return { kind: 'created', ...named, jobId, ...(deliveryId === undefined ? {} : { deliveryId }) };
}

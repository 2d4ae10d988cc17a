import { createHmac, timingSafeEqual } from 'node:crypto';
import { unboundedMs } from '../definition/duration.js';
import { renderGoTemplate, TemplateRenderError } from '../definition/gotemplate/render.js';
import type { JobDefinition, TriggerSpec } from '../definition/model.js';
import { siblingJobType } from '../domain/job-type-names.js';
import type { DefinitionVersion } from '../domain/types.js';

/**
 * `triggers` (issue 14): what an event (a webhook delivery, another job's end) means for a job type,
 * as pure functions; the queen does the I/O (queen/events.ts). Templates see the event the way
 * Formicary's do (`.Body`, `.Headers`, `.Query` for a webhook; `.Job` here for a job's end).
 */

export type WebhookTrigger = Extract<TriggerSpec, { type: 'webhook' }>;
export type JobTrigger = Extract<TriggerSpec, { type: 'job' }>;

/** A trigger's template could not be rendered on this event (the event, or the definition, is at fault). */
export class TriggerTemplateError extends Error {
  override readonly name = 'TriggerTemplateError';
}

/**
 * Missing keys of the event read as Go's zero value (`<no value>`, false to `if`, the fallback of
 * `default`) rather than as the definition's "not given yet", which would leave the action in place.
 */
function goData(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(goData);
  if (typeof value !== 'object' || value === null) return value;
  const wrapped = Object.fromEntries(Object.entries(value).map(([key, item]) => [key, goData(item)]));
  return new Proxy(wrapped, {
    getOwnPropertyDescriptor: (target, key) =>
      Object.getOwnPropertyDescriptor(target, key) ??
      (typeof key === 'string' ? { value: undefined, writable: false, enumerable: false, configurable: true } : undefined),
    has: () => true,
  });
}

/** Renders one template of trigger `name` over the event; `what` names the key in errors (`filter`, `params.branch`). */
export function renderTriggerText(text: string, data: Readonly<Record<string, unknown>>, name: string, what: string): string {
  let rendered: ReturnType<typeof renderGoTemplate>;
  try {
    rendered = renderGoTemplate(text, { data: goData(data) as Record<string, unknown> });
  } catch (error) {
    if (error instanceof TemplateRenderError) throw new TriggerTemplateError(`trigger '${name}' ${what}: ${error.message}`);
    throw error;
  }
  if (rendered.deferred.length > 0) {
    throw new TriggerTemplateError(
      `trigger '${name}' ${what}: ${rendered.deferred[0]} reads a value this event does not have (a field of a missing object)`,
    );
  }
  return rendered.text;
}

export interface TriggerDecision {
  /** False when the filter did not render to "true": no job. */
  readonly fire: boolean;
  readonly params: Readonly<Record<string, unknown>>;
  /** The rendered dedup_key, when the trigger has one. */
  readonly dedupKey?: string;
}

/** Filter, params and dedup key of a trigger over an event, as Formicary evaluates them (filter first). */
export function decideTrigger(trigger: TriggerSpec, data: Readonly<Record<string, unknown>>): TriggerDecision {
  if (trigger.filter !== undefined && renderTriggerText(trigger.filter, data, trigger.name, 'filter').trim() !== 'true') {
    return { fire: false, params: {} };
  }
  const params: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(trigger.params ?? {})) {
    params[key] = typeof value === 'string' ? renderTriggerText(value, data, trigger.name, `params.${key}`) : value;
  }
  const dedupKey = trigger.dedup_key === undefined ? undefined : renderTriggerText(trigger.dedup_key, data, trigger.name, 'dedup_key');
  return { fire: true, params, ...(dedupKey === undefined || dedupKey.trim() === '' ? {} : { dedupKey: dedupKey.trim() }) };
}

/** The rate limit window in ms (Formicary's default window is a minute). */
export function rateWindowMs(trigger: TriggerSpec): number | undefined {
  if (trigger.rate_limit === undefined) return undefined;
  return trigger.rate_limit.window === undefined ? 60_000 : (unboundedMs(trigger.rate_limit.window) ?? 60_000);
}

export const DEFAULT_SIGNATURE_HEADER = 'X-Hub-Signature-256';

/**
 * Whether `signature` (GitHub's `sha256=<hex>`, or the bare hex) is the HMAC-SHA256 of the raw body
 * under `secret`; compared in constant time.
 */
export function signatureMatches(body: Buffer, secret: string, signature: string | undefined): boolean {
  if (signature === undefined) return false;
  const hex = signature.trim().replace(/^sha256=/i, '');
  if (!/^[0-9a-f]{64}$/i.test(hex)) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(hex, 'hex'));
}

/** `sha256=<hex>` of the body: what a sender puts in the signature header. */
export function signBody(body: Buffer | string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export interface WebhookTarget {
  readonly definition: DefinitionVersion;
  readonly trigger: WebhookTrigger;
}

const webhooksOf = (definition: JobDefinition): WebhookTrigger[] =>
  definition.triggers.filter((t): t is WebhookTrigger => t.type === 'webhook');

/**
 * The webhook a route names: `<job_type>/<name>`, or one path segment that is a job type with a single
 * webhook trigger or a trigger name no other enabled job type uses. A string when it names none or
 * several (the reason). The routes are public (a signature, not a token), so the reason names no
 * trigger or job type the caller did not name: listing them would show any caller other
 * organisations' names.
 */
export function findWebhook(definitions: readonly DefinitionVersion[], target: string, name?: string): WebhookTarget | string {
  const enabled = definitions.filter((d) => !d.disabled);
  if (name !== undefined) {
    const definition = enabled.find((d) => d.jobType === target);
    const trigger = definition && webhooksOf(definition.definition).find((t) => t.name === name);
    return definition && trigger ? { definition, trigger } : `job type '${target}' has no webhook trigger named '${name}'`;
  }
  const byType = enabled.find((d) => d.jobType === target);
  if (byType !== undefined) {
    const hooks = webhooksOf(byType.definition);
    if (hooks.length === 1) return { definition: byType, trigger: hooks[0]! };
    if (hooks.length > 1) {
      return `job type '${target}' has ${hooks.length} webhook triggers: POST to /api/webhooks/${target}/<name>`;
    }
  }
  const byName = enabled.flatMap((d) =>
    webhooksOf(d.definition)
      .filter((t) => t.name === target)
      .map((trigger) => ({ definition: d, trigger })),
  );
  if (byName.length === 1) return byName[0]!;
  if (byName.length > 1) {
    return `${byName.length} job types have a webhook trigger named '${target}': POST to /api/webhooks/<job_type>/${target}`;
  }
  return `no job type or webhook trigger is named '${target}'`;
}

/** The `type: job` triggers of every enabled definition that follow `jobType` ending in `state`. */
export function jobTriggersOn(
  definitions: readonly DefinitionVersion[],
  jobType: string,
  state: string,
): readonly { readonly definition: DefinitionVersion; readonly trigger: JobTrigger }[] {
  return definitions
    .filter((d) => !d.disabled)
    .flatMap((definition) =>
      definition.definition.triggers
        .filter(
          (t): t is JobTrigger =>
            // A trigger names an upstream job type of its own organisation, as its users name it.
            t.type === 'job' &&
            siblingJobType(definition.jobType, t.job_type) === jobType &&
            (t.states ?? ['COMPLETED']).includes(state as never),
        )
        .map((trigger) => ({ definition, trigger })),
    );
}

import type { StoredResponse } from './types.js';

/** A response as the application produced it, before the replay policy filters it. */
export interface ResponseInput {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | number | readonly string[] | undefined>>;
  readonly body: Buffer;
}

export const DEFAULT_REPLAY_HEADERS = ['content-type', 'location', 'etag', 'link'] as const;
/** Headers that describe one particular response and must never be replayed. */
export const FORBIDDEN_REPLAY_HEADERS = new Set(['set-cookie', 'date', 'content-length', 'transfer-encoding', 'connection']);
/** Statuses that say "try again" rather than give an answer. */
const TRANSIENT_CLIENT_STATUSES = new Set([408, 409, 425, 429]);

export type StorePredicate = (status: number) => boolean;

/**
 * 2xx and 4xx are answers and are kept, and so are redirects: a 303 after a POST reports an
 * effect that happened, so re-running on retry would repeat it. 5xx and the transient 4xx
 * release the key.
 */
export const defaultShouldStore: StorePredicate = (status) => status >= 200 && status < 500 && !TRANSIENT_CLIENT_STATUSES.has(status);

export interface ReplayPolicy {
  readonly shouldStore: StorePredicate;
  readonly headers: ReadonlySet<string>;
  readonly maxBodyBytes: number;
}

export type PolicyDecision =
  | { readonly store: true; readonly response: StoredResponse }
  | { readonly store: false; readonly reason: 'status' | 'too-large' };

export function decide(policy: ReplayPolicy, input: ResponseInput): PolicyDecision {
  if (!policy.shouldStore(input.status)) return { store: false, reason: 'status' };
  if (input.body.length > policy.maxBodyBytes) return { store: false, reason: 'too-large' };
  return { store: true, response: { status: input.status, headers: allowedHeaders(policy, input.headers), body: input.body } };
}

function allowedHeaders(policy: ReplayPolicy, headers: ResponseInput['headers']): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (value === undefined || !policy.headers.has(lower)) continue;
    kept[lower] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return kept;
}

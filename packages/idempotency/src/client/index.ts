import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { fullJitter } from '@myrmex/backoff';
import { parseIdempotencyKey, serializeKey } from '../core/key.js';
import { retryAfterMs, retryableStatus } from './backoff.js';

export { serializeKey } from '../core/key.js';
export { retryAfterMs, retryableStatus } from './backoff.js';

export interface AttemptReport {
  /** 1 for the first try. */
  readonly attempt: number;
  readonly key: string | undefined;
  readonly status?: number;
  readonly error?: unknown;
  /** How long the client waits before the next attempt; absent on the last one. */
  readonly delayMs?: number;
}

export interface IdempotentFetchOptions {
  /** The fetch to wrap. Default the global fetch. */
  readonly fetch?: typeof fetch;
  /** Attempts per logical call, the first included. Default 5. */
  readonly maxAttempts?: number;
  /** Backoff base and cap for full jitter. Defaults 100 ms and 5 s. */
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Time budget of one logical call, retries and waits included. Default 30 s. */
  readonly totalTimeoutMs?: number;
  /** Methods that get an Idempotency-Key (and so may be retried). Default POST and PATCH. */
  readonly keyedMethods?: readonly string[];
  /** Makes one key per logical call. Default UUIDv4. */
  readonly generateKey?: () => string;
  /** Called after every attempt. */
  readonly onAttempt?: (report: AttemptReport) => void;
  /** For tests: the jitter source. */
  readonly random?: () => number;
}

export interface CallReport {
  readonly key: string | undefined;
  readonly attempts: number;
}

/** HTTP methods safe to repeat without a key. */
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
const reports = new WeakMap<Response, CallReport>();

/** The key and the number of attempts behind a response returned by an idempotent fetch. */
export function callReport(response: Response): CallReport | undefined {
  return reports.get(response);
}

/**
 * A fetch-compatible function that gives every logical call one Idempotency-Key (keeping one
 * the caller set) and reuses it on every retry. It retries network errors, the server's own 409
 * in-progress problem (not an application's 409), 429 and 5xx
 * with capped exponential backoff and full jitter, honouring Retry-After, within maxAttempts and
 * totalTimeoutMs; it never retries 400, 422 or any other answer. The caller's AbortSignal stops
 * both requests and waits.
 */
export function createIdempotentFetch(options: IdempotentFetchOptions = {}): typeof fetch {
  const settings = resolve(options);
  const idempotentFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const template = new Request(input, init);
    const method = template.method.toUpperCase();
    const keyed = settings.keyedMethods.has(method);
    const headers = new Headers(template.headers);
    // The IETF draft's header is a Structured Field string: sent quoted, reported unquoted.
    const given = headers.get('idempotency-key');
    if (given !== null) headers.set('idempotency-key', serializeKey(given));
    else if (keyed) headers.set('idempotency-key', serializeKey(settings.generateKey()));
    const sent = headers.get('idempotency-key');
    const key = sent === null ? undefined : keyOf(sent);
    // Read once, so every attempt sends the same bytes even when the caller passed a stream.
    const body = method === 'GET' || method === 'HEAD' ? undefined : await template.arrayBuffer();
    const retryable = keyed || IDEMPOTENT_METHODS.has(method);
    const deadline = Date.now() + settings.totalTimeoutMs;
    const userSignal = init?.signal ?? (input instanceof Request ? input.signal : undefined);

    for (let attempt = 1; ; attempt++) {
      userSignal?.throwIfAborted();
      const remaining = Math.max(1, deadline - Date.now());
      const signal = userSignal ? AbortSignal.any([userSignal, AbortSignal.timeout(remaining)]) : AbortSignal.timeout(remaining);
      let outcome: { response: Response } | { error: unknown };
      try {
        outcome = { response: await settings.fetch(template.url, { method, headers, body, signal, redirect: template.redirect }) };
      } catch (error) {
        if (userSignal?.aborted || signal.aborted) throw error;
        outcome = { error };
      }
      const status = 'response' in outcome ? outcome.response.status : undefined;
      const again =
        retryable &&
        attempt < settings.maxAttempts &&
        (status === undefined ||
          (retryableStatus(status) && (status !== 409 || (await isOwnConflict((outcome as { response: Response }).response)))));
      const delay = again ? nextDelay(settings, attempt, 'response' in outcome ? outcome.response : undefined) : undefined;
      const fits = delay !== undefined && Date.now() + delay < deadline;
      settings.onAttempt?.({
        attempt,
        key,
        ...(status === undefined ? { error: (outcome as { error: unknown }).error } : { status }),
        ...(fits ? { delayMs: delay } : {}),
      });
      if (!fits) {
        if ('error' in outcome) throw outcome.error;
        reports.set(outcome.response, { key, attempts: attempt });
        return outcome.response;
      }
      if ('response' in outcome) await outcome.response.body?.cancel().catch(() => undefined);
      // Rejects with the caller's own reason, as fetch does, not a generic AbortError.
      await sleep(delay, undefined, userSignal ? { signal: userSignal } : undefined).catch((error: unknown) => {
        throw userSignal?.aborted ? userSignal.reason : error;
      });
    }
  };
  return idempotentFetch as typeof fetch;
}

/**
 * Only the library's own 409s mean "the first request with this key is still running" (or lost
 * its lease to a retry): an application's 409 ("username taken") is an answer, never retried.
 */
const OWN_CONFLICTS = /(?:^|[#/])(?:problem-)?(?:request-in-progress|lease-lost)$/;

async function isOwnConflict(response: Response): Promise<boolean> {
  if (!(response.headers.get('content-type') ?? '').toLowerCase().startsWith('application/problem+json')) return false;
  try {
    const problem = (await response.clone().json()) as { type?: unknown };
    return typeof problem.type === 'string' && OWN_CONFLICTS.test(problem.type);
  } catch {
    return false;
  }
}

function keyOf(header: string): string {
  const parsed = parseIdempotencyKey(header);
  return parsed.ok ? parsed.key : header;
}

function nextDelay(settings: Settings, attempt: number, response: Response | undefined): number {
  // Attempt 1 failed: that is retry 0 in the AWS formula @myrmex/backoff implements.
  const jitter = fullJitter(attempt - 1, { baseMs: settings.baseDelayMs, capMs: settings.maxDelayMs }, settings.random);
  const told = response ? retryAfterMs(response.headers.get('retry-after'), Date.now()) : undefined;
  return told ?? jitter;
}

interface Settings {
  readonly fetch: typeof fetch;
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly totalTimeoutMs: number;
  readonly keyedMethods: ReadonlySet<string>;
  readonly generateKey: () => string;
  readonly onAttempt: ((report: AttemptReport) => void) | undefined;
  readonly random: () => number;
}

function resolve(options: IdempotentFetchOptions): Settings {
  if (options === null || typeof options !== 'object') throw new TypeError('createIdempotentFetch: options must be an object');
  const count = (name: keyof IdempotentFetchOptions, fallback: number, min: number): number => {
    const value = options[name] ?? fallback;
    if (!Number.isSafeInteger(value) || (value as number) < min)
      throw new RangeError(`createIdempotentFetch: options.${name} must be an integer >= ${min}, got ${String(value)}`);
    return value as number;
  };
  const fn = <T>(name: keyof IdempotentFetchOptions, fallback: T): T => {
    const value = options[name] ?? fallback;
    if (value !== undefined && typeof value !== 'function')
      throw new TypeError(`createIdempotentFetch: options.${name} must be a function`);
    return value as T;
  };
  const keyedMethods = options.keyedMethods ?? ['POST', 'PATCH'];
  if (!Array.isArray(keyedMethods) || keyedMethods.some((method) => typeof method !== 'string')) {
    throw new TypeError('createIdempotentFetch: options.keyedMethods must be an array of method names');
  }
  const baseDelayMs = count('baseDelayMs', 100, 1);
  const maxDelayMs = count('maxDelayMs', 5000, 1);
  if (maxDelayMs < baseDelayMs) throw new RangeError('createIdempotentFetch: options.maxDelayMs must be at least options.baseDelayMs');
  return {
    fetch: fn('fetch', globalThis.fetch),
    maxAttempts: count('maxAttempts', 5, 1),
    baseDelayMs,
    maxDelayMs,
    totalTimeoutMs: count('totalTimeoutMs', 30_000, 1),
    keyedMethods: new Set(keyedMethods.map((method) => method.toUpperCase())),
    generateKey: fn('generateKey', randomUUID),
    onAttempt: fn('onAttempt', undefined),
    random: fn('random', Math.random),
  };
}

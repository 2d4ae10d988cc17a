import type { FingerprintMode } from './fingerprint.js';
import { consoleLogger, type IdempotencyLogger } from './metrics.js';
import { DEFAULT_REPLAY_HEADERS, defaultShouldStore, FORBIDDEN_REPLAY_HEADERS, type ReplayPolicy, type StorePredicate } from './policy.js';
import { DEFAULT_PROBLEM_BASE } from './problem.js';
import type { IdempotencyStore } from './types.js';

export type KeyScope = 'route' | 'principal';

export interface EngineOptions {
  readonly store: IdempotencyStore;
  /** How long a claim holds the key before another request may take it over. Default 30 s. */
  readonly leaseMs?: number;
  /** How often a running request extends its lease. Default a third of the lease. */
  readonly heartbeatMs?: number;
  /** A lease stops renewing itself after this long, so a hung handler cannot hold a key forever. Default 10 min. */
  readonly maxHoldMs?: number;
  /** How long a completed response is kept and replayed. Default 24 h. */
  readonly retentionMs?: number;
  /** Methods that must carry a key (others are protected only when they send one). Default POST and PATCH. */
  readonly requiredMethods?: readonly string[];
  /**
   * What a key is unique within. `'route'` (default): the principal, the method and the route, so
   * one key may serve different endpoints. `'principal'`: the principal only, so a key reused on
   * another method or route is a different request under the same key (422), as Stripe does.
   */
  readonly scope?: KeyScope;
  readonly fingerprint?: FingerprintMode;
  /** Which statuses are answers worth replaying. Default 2xx, 3xx and 4xx except 408, 409, 425, 429. */
  readonly shouldStore?: StorePredicate;
  /** Response headers replayed besides Content-Type, Location, ETag and Link. */
  readonly replayHeaders?: readonly string[];
  /** Larger bodies are not stored: the key is released and the response says so. Default 1 MiB. */
  readonly maxBodyBytes?: number;
  /** A concurrent request waits up to this long for the first to finish, then gets 409. Default 0. */
  readonly waitMs?: number;
  /** Serve requests without protection when the store is down, instead of 503. Default false. */
  readonly failOpen?: boolean;
  /** Retry-After seconds sent with 409 (in progress) and 503 (store down). Default 1. */
  readonly retryAfterSeconds?: number;
  /** Prefix of every problem type URI; the kind is appended. */
  readonly problemBase?: string;
  readonly logger?: IdempotencyLogger;
  /** A store call that takes longer counts as the store being down. Default 5 s. */
  readonly storeTimeoutMs?: number;
  /** Milliseconds since the epoch; replaceable for tests. */
  readonly clock?: () => number;
}

export interface ResolvedOptions {
  readonly store: IdempotencyStore;
  readonly leaseMs: number;
  readonly heartbeatMs: number;
  readonly maxHoldMs: number;
  readonly retentionMs: number;
  readonly requiredMethods: ReadonlySet<string>;
  readonly scope: KeyScope;
  readonly fingerprint: FingerprintMode;
  readonly policy: ReplayPolicy;
  readonly waitMs: number;
  readonly failOpen: boolean;
  readonly retryAfterSeconds: number;
  readonly problemBase: string;
  readonly logger: IdempotencyLogger;
  readonly storeTimeoutMs: number;
  readonly clock: () => number;
}

const STORE_METHODS = ['claim', 'heartbeat', 'complete', 'release', 'get', 'sweep', 'close'] as const;

/** Checks every option and names the first bad one; nothing is half-applied. */
export function resolveOptions(options: EngineOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') throw new TypeError('idempotency options must be an object');
  const { store } = options;
  if (store === null || typeof store !== 'object' || STORE_METHODS.some((name) => typeof store[name] !== 'function')) {
    throw new TypeError(`options.store must implement IdempotencyStore (${STORE_METHODS.join(', ')})`);
  }
  const leaseMs = positiveInteger('leaseMs', options.leaseMs, 30_000);
  const heartbeatMs = positiveInteger('heartbeatMs', options.heartbeatMs, Math.max(1, Math.floor(leaseMs / 3)));
  if (heartbeatMs >= leaseMs)
    throw new RangeError(`options.heartbeatMs (${heartbeatMs}) must be shorter than options.leaseMs (${leaseMs})`);
  const retentionMs = positiveInteger('retentionMs', options.retentionMs, 24 * 60 * 60 * 1000);
  if (retentionMs < leaseMs) throw new RangeError(`options.retentionMs (${retentionMs}) must be at least options.leaseMs (${leaseMs})`);
  return {
    store,
    leaseMs,
    heartbeatMs,
    maxHoldMs: positiveInteger('maxHoldMs', options.maxHoldMs, 10 * 60 * 1000),
    retentionMs,
    requiredMethods: methods(options.requiredMethods),
    scope: keyScope(options.scope),
    fingerprint: fingerprintMode(options.fingerprint),
    policy: {
      shouldStore: callable('shouldStore', options.shouldStore) ?? defaultShouldStore,
      headers: replayHeaders(options.replayHeaders),
      maxBodyBytes: nonNegativeInteger('maxBodyBytes', options.maxBodyBytes, 1024 * 1024),
    },
    waitMs: nonNegativeInteger('waitMs', options.waitMs, 0),
    failOpen: flag('failOpen', options.failOpen, false),
    retryAfterSeconds: nonNegativeInteger('retryAfterSeconds', options.retryAfterSeconds, 1),
    problemBase: text('problemBase', options.problemBase, DEFAULT_PROBLEM_BASE),
    logger: logger(options.logger),
    storeTimeoutMs: positiveInteger('storeTimeoutMs', options.storeTimeoutMs, 5000),
    clock: callable('clock', options.clock) ?? Date.now,
  };
}

function positiveInteger(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || (value as number) <= 0)
    throw new RangeError(`options.${name} must be a positive integer, got ${String(value)}`);
  return value as number;
}

function nonNegativeInteger(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    throw new RangeError(`options.${name} must be a non-negative integer, got ${String(value)}`);
  }
  return value as number;
}

function flag(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new TypeError(`options.${name} must be a boolean, got ${typeof value}`);
  return value;
}

function text(name: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value === '') throw new TypeError(`options.${name} must be a non-empty string`);
  return value;
}

function callable<T>(name: string, value: T | undefined): T | undefined {
  if (value !== undefined && typeof value !== 'function') throw new TypeError(`options.${name} must be a function`);
  return value;
}

function methods(value: readonly string[] | undefined): ReadonlySet<string> {
  if (value === undefined) return new Set(['POST', 'PATCH']);
  if (!Array.isArray(value) || value.some((method) => typeof method !== 'string' || !/^[A-Za-z]+$/.test(method))) {
    throw new TypeError('options.requiredMethods must be an array of HTTP method names');
  }
  return new Set(value.map((method) => method.toUpperCase()));
}

function keyScope(value: unknown): KeyScope {
  if (value === undefined) return 'route';
  if (value === 'route' || value === 'principal') return value;
  throw new TypeError(`options.scope must be 'route' or 'principal', got ${String(value)}`);
}

function fingerprintMode(value: FingerprintMode | undefined): FingerprintMode {
  if (value === undefined || value === 'raw' || value === 'canonical-json') return value ?? 'raw';
  if (
    value !== null &&
    typeof value === 'object' &&
    Array.isArray(value.fields) &&
    value.fields.length > 0 &&
    value.fields.every((field) => typeof field === 'string' && field !== '')
  ) {
    return { fields: [...value.fields] };
  }
  throw new TypeError("options.fingerprint must be 'raw', 'canonical-json' or { fields: [non-empty strings] }");
}

function replayHeaders(value: readonly string[] | undefined): ReadonlySet<string> {
  const names = new Set<string>(DEFAULT_REPLAY_HEADERS);
  if (value === undefined) return names;
  if (!Array.isArray(value)) throw new TypeError('options.replayHeaders must be an array of header names');
  for (const name of value) {
    if (typeof name !== 'string' || !/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) {
      throw new TypeError(`options.replayHeaders contains an invalid header name: ${String(name)}`);
    }
    const lower = name.toLowerCase();
    if (FORBIDDEN_REPLAY_HEADERS.has(lower)) throw new TypeError(`options.replayHeaders must not contain ${lower}: it is never replayed`);
    names.add(lower);
  }
  return names;
}

function logger(value: IdempotencyLogger | undefined): IdempotencyLogger {
  if (value === undefined) return consoleLogger;
  if (value === null || typeof value.warn !== 'function' || typeof value.error !== 'function') {
    throw new TypeError('options.logger must have warn(details, message) and error(details, message) functions');
  }
  return value;
}

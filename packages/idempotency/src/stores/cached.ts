import type { ClaimRequest, ClaimResult, CompleteRequest, IdempotencyStore, KeyRecord } from '../core/types.js';

type Completed = Extract<KeyRecord, { state: 'completed' }>;

export interface CachedStoreOptions {
  /** Completed records kept in this process; the least recently used goes first. Default 10,000. */
  readonly maxEntries?: number;
  /** How long one is kept here at most (never past its retention). Default 60 s. */
  readonly ttlMs?: number;
}

/**
 * An in-process cache of completed records in front of a remote store (PostgreSQL, Redis), so a
 * replay storm is answered from memory. Only completed records are cached: no store ever changes
 * one before its retention ends (a claim may overwrite it only after `expiresAt`), so a cached
 * copy is exactly what the remote would answer until then. Pending records, claims, heartbeats,
 * completions and releases always go to the remote store, which keeps deciding every race.
 */
export class CachedStore implements IdempotencyStore {
  readonly remote: IdempotencyStore;
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly completed = new Map<string, { readonly record: Completed; readonly until: number }>();
  /** Answers given from memory, for metrics and tests. */
  hits = 0;

  constructor(remote: IdempotencyStore, options: CachedStoreOptions = {}) {
    if (remote === null || typeof remote !== 'object' || typeof remote.claim !== 'function') {
      throw new TypeError('CachedStore: remote must be an IdempotencyStore');
    }
    if (options === null || typeof options !== 'object') throw new TypeError('CachedStore: options must be an object');
    this.maxEntries = options.maxEntries ?? 10_000;
    this.ttlMs = options.ttlMs ?? 60_000;
    if (!Number.isSafeInteger(this.maxEntries) || this.maxEntries < 1)
      throw new RangeError(`CachedStore: options.maxEntries must be a positive integer, got ${this.maxEntries}`);
    if (!Number.isSafeInteger(this.ttlMs) || this.ttlMs < 1)
      throw new RangeError(`CachedStore: options.ttlMs must be a positive integer, got ${this.ttlMs}`);
    this.remote = remote;
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    const cached = this.lookup(request.scope, request.now);
    if (cached) return { outcome: 'exists', record: cached };
    const result = await this.remote.claim(request);
    if (result.outcome === 'exists') this.remember(request.scope, result.record, request.now);
    return result;
  }

  heartbeat(scope: string, token: string, leaseExpiresAt: number): Promise<boolean> {
    return this.remote.heartbeat(scope, token, leaseExpiresAt);
  }

  complete(request: CompleteRequest): Promise<boolean> {
    return this.remote.complete(request);
  }

  release(scope: string, token: string): Promise<boolean> {
    return this.remote.release(scope, token);
  }

  async get(scope: string, now: number): Promise<KeyRecord | undefined> {
    const cached = this.lookup(scope, now);
    if (cached) return cached;
    const record = await this.remote.get(scope, now);
    if (record) this.remember(scope, record, now);
    return record;
  }

  async sweep(now: number): Promise<number> {
    for (const [scope, entry] of this.completed) if (entry.until <= now) this.completed.delete(scope);
    return this.remote.sweep(now);
  }

  async close(): Promise<void> {
    this.completed.clear();
    await this.remote.close();
  }

  private lookup(scope: string, now: number): Completed | undefined {
    const entry = this.completed.get(scope);
    if (!entry) return undefined;
    this.completed.delete(scope);
    if (entry.until <= now) return undefined;
    this.completed.set(scope, entry);
    this.hits++;
    return entry.record;
  }

  private remember(scope: string, record: KeyRecord, now: number): void {
    if (record.state !== 'completed' || record.expiresAt <= now) return;
    this.completed.set(scope, { record, until: Math.min(record.expiresAt, now + this.ttlMs) });
    if (this.completed.size > this.maxEntries) this.completed.delete(this.completed.keys().next().value as string);
  }
}

import type { ClaimRequest, ClaimResult, CompleteRequest, IdempotencyStore, KeyRecord } from '../core/types.js';
import { claimable } from './rules.js';

type Entry = KeyRecord & { readonly token?: string };

/**
 * Keys in this process's memory. Each method runs to completion without awaiting, so every
 * operation is atomic. For one process only (tests, development, single-instance services).
 */
export class MemoryStore implements IdempotencyStore {
  private readonly entries = new Map<string, Entry>();

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    const existing = this.entries.get(request.scope);
    if (existing && !claimable(existing, request)) return { outcome: 'exists', record: strip(existing) };
    this.entries.set(request.scope, {
      state: 'pending',
      fingerprint: request.fingerprint,
      token: request.token,
      leaseExpiresAt: request.leaseExpiresAt,
      expiresAt: request.expiresAt,
    });
    return { outcome: 'claimed', reclaimed: existing !== undefined };
  }

  async heartbeat(scope: string, token: string, leaseExpiresAt: number): Promise<boolean> {
    const entry = this.held(scope, token);
    if (!entry) return false;
    this.entries.set(scope, { ...entry, leaseExpiresAt });
    return true;
  }

  async complete(request: CompleteRequest): Promise<boolean> {
    const entry = this.held(request.scope, request.token);
    if (!entry) return false;
    this.entries.set(request.scope, {
      state: 'completed',
      fingerprint: entry.fingerprint,
      response: request.response,
      expiresAt: request.expiresAt,
    });
    return true;
  }

  async release(scope: string, token: string): Promise<boolean> {
    if (!this.held(scope, token)) return false;
    this.entries.delete(scope);
    return true;
  }

  async get(scope: string, now: number): Promise<KeyRecord | undefined> {
    const entry = this.entries.get(scope);
    return entry && entry.expiresAt > now ? strip(entry) : undefined;
  }

  async sweep(now: number): Promise<number> {
    let purged = 0;
    for (const [scope, entry] of this.entries) {
      if (entry.expiresAt <= now) {
        this.entries.delete(scope);
        purged++;
      }
    }
    return purged;
  }

  async close(): Promise<void> {
    this.entries.clear();
  }

  private held(scope: string, token: string): (Entry & { state: 'pending' }) | undefined {
    const entry = this.entries.get(scope);
    return entry?.state === 'pending' && entry.token === token ? entry : undefined;
  }
}

function strip(entry: Entry): KeyRecord {
  if (entry.state === 'completed') {
    return { state: 'completed', fingerprint: entry.fingerprint, response: entry.response, expiresAt: entry.expiresAt };
  }
  return { state: 'pending', fingerprint: entry.fingerprint, leaseExpiresAt: entry.leaseExpiresAt, expiresAt: entry.expiresAt };
}

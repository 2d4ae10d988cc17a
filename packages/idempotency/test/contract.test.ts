import { CachedStore, type ClaimRequest, type IdempotencyStore, MemoryStore, type StoredResponse } from '@myrmex/idempotency';
import { freshEach, postgres, redis } from '@myrmex/test-utils';
import { describe, expect, it } from 'vitest';
import { openPostgres, openRedis, openSqlite } from './stores.js';

const pgGate = await postgres();
const redisGate = await redis();

interface Contract {
  /** Whether sweep() deletes rows itself (Redis expires keys on its own and sweeps nothing). */
  readonly sweepCounts: boolean;
}

// Bytes that are not valid UTF-8 and contain NUL: a store must keep bodies as bytes.
const BODY = Buffer.from([0x7b, 0x00, 0xff, 0xfe, 0x22, 0x7d]);
const RESPONSE: StoredResponse = { status: 201, headers: { 'content-type': 'application/json', location: '/p/1' }, body: BODY };

function contract(store: () => IdempotencyStore, { sweepCounts }: Contract): void {
  const base = Date.now();
  const claim = (over: Partial<ClaimRequest> = {}): ClaimRequest => ({
    scope: 'scope-a',
    fingerprint: 'fp-1',
    token: 't1',
    now: base,
    leaseExpiresAt: base + 1000,
    expiresAt: base + 60_000,
    ...over,
  });

  it('a claim on a free scope wins, a second one sees the pending record', async () => {
    expect(await store().claim(claim())).toEqual({ outcome: 'claimed', reclaimed: false });
    expect(await store().claim(claim({ token: 't2' }))).toEqual({
      outcome: 'exists',
      record: { state: 'pending', fingerprint: 'fp-1', leaseExpiresAt: base + 1000, expiresAt: base + 60_000 },
    });
  });

  it('completion under the token stores status, headers and exact body bytes', async () => {
    await store().claim(claim());
    expect(await store().complete({ scope: 'scope-a', token: 't1', response: RESPONSE, expiresAt: base + 90_000 })).toBe(true);
    const again = await store().claim(claim({ token: 't2' }));
    expect(again).toEqual({
      outcome: 'exists',
      record: { state: 'completed', fingerprint: 'fp-1', response: RESPONSE, expiresAt: base + 90_000 },
    });
    expect(await store().get('scope-a', base)).toEqual({
      state: 'completed',
      fingerprint: 'fp-1',
      response: RESPONSE,
      expiresAt: base + 90_000,
    });
  });

  it('complete, release and heartbeat with a wrong token change nothing', async () => {
    await store().claim(claim());
    expect(await store().complete({ scope: 'scope-a', token: 'nope', response: RESPONSE, expiresAt: base + 90_000 })).toBe(false);
    expect(await store().release('scope-a', 'nope')).toBe(false);
    expect(await store().heartbeat('scope-a', 'nope', base + 5000)).toBe(false);
    expect(await store().get('scope-a', base)).toMatchObject({ state: 'pending', leaseExpiresAt: base + 1000 });
    expect(await store().complete({ scope: 'missing', token: 't1', response: RESPONSE, expiresAt: base + 90_000 })).toBe(false);
  });

  it('release under the token frees the scope; a completed record cannot be released', async () => {
    await store().claim(claim());
    expect(await store().release('scope-a', 't1')).toBe(true);
    expect(await store().get('scope-a', base)).toBeUndefined();
    expect(await store().claim(claim({ token: 't2' }))).toEqual({ outcome: 'claimed', reclaimed: false });
    await store().complete({ scope: 'scope-a', token: 't2', response: RESPONSE, expiresAt: base + 90_000 });
    expect(await store().release('scope-a', 't2')).toBe(false);
    expect(await store().get('scope-a', base)).toMatchObject({ state: 'completed' });
  });

  it('a lapsed lease is taken over by the same request and fences the old token out', async () => {
    await store().claim(claim());
    const later = base + 1000;
    expect(await store().claim(claim({ token: 't2', now: later, leaseExpiresAt: later + 1000 }))).toEqual({
      outcome: 'claimed',
      reclaimed: true,
    });
    expect(await store().complete({ scope: 'scope-a', token: 't1', response: RESPONSE, expiresAt: base + 90_000 })).toBe(false);
    expect(await store().heartbeat('scope-a', 't1', later + 5000)).toBe(false);
    expect(await store().complete({ scope: 'scope-a', token: 't2', response: RESPONSE, expiresAt: base + 90_000 })).toBe(true);
  });

  it('a lapsed lease is not taken over by a different request', async () => {
    await store().claim(claim());
    const result = await store().claim(claim({ token: 't2', fingerprint: 'fp-2', now: base + 5000, leaseExpiresAt: base + 6000 }));
    expect(result).toMatchObject({ outcome: 'exists', record: { state: 'pending', fingerprint: 'fp-1' } });
  });

  it('a heartbeat moves the lease end so the record is not taken over', async () => {
    await store().claim(claim());
    expect(await store().heartbeat('scope-a', 't1', base + 3000)).toBe(true);
    expect(await store().claim(claim({ token: 't2', now: base + 2000, leaseExpiresAt: base + 3000 }))).toMatchObject({ outcome: 'exists' });
  });

  it('a record past its retention is absent on read, claimable, and swept', async () => {
    await store().claim(claim({ scope: 'old', expiresAt: base + 1000 }));
    await store().complete({ scope: 'old', token: 't1', response: RESPONSE, expiresAt: base + 1000 });
    await store().claim(claim({ scope: 'young' }));
    const after = base + 1000;
    expect(await store().get('old', after)).toBeUndefined();
    expect(await store().sweep(after)).toBe(sweepCounts ? 1 : 0);
    expect(await store().get('young', after)).toMatchObject({ state: 'pending' });
    expect(await store().claim(claim({ scope: 'old', token: 't3', now: after }))).toMatchObject({ outcome: 'claimed' });
  });

  it('of 40 concurrent claims on one scope exactly one wins', async () => {
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => store().claim(claim({ token: `c${i}` }))));
    expect(results.filter((result) => result.outcome === 'claimed')).toHaveLength(1);
  });
}

describe('store contract: MemoryStore', () => {
  const open = freshEach(async () => {
    const store = new MemoryStore();
    return { store, dispose: () => store.close() };
  });
  contract(() => open.current.store, { sweepCounts: true });
});

describe('store contract: SqliteStore', () => {
  const open = freshEach(async () => openSqlite());
  contract(() => open.current.store, { sweepCounts: true });
});

pgGate.describe('store contract: PostgresStore', () => {
  const open = freshEach(async () => {
    const db = await pgGate.freshDatabase();
    const opened = await openPostgres(db.url);
    return { store: opened.store, dispose: () => opened.dispose().then(() => db.dispose()) };
  });
  contract(() => open.current.store, { sweepCounts: true });
});

redisGate.describe('store contract: RedisStore', () => {
  const open = freshEach(async () => {
    const prefix = await redisGate.freshPrefix();
    const opened = openRedis(prefix.url, prefix.prefix);
    return { store: opened.store, dispose: () => opened.dispose().then(() => prefix.dispose()) };
  });
  contract(() => open.current.store, { sweepCounts: false });
});

describe('store contract: CachedStore in front of MemoryStore', () => {
  const open = freshEach(async () => {
    const store = new CachedStore(new MemoryStore());
    return { store, dispose: () => store.close() };
  });
  contract(() => open.current.store, { sweepCounts: true });
});

redisGate.describe('store contract: CachedStore in front of RedisStore', () => {
  const open = freshEach(async () => {
    const prefix = await redisGate.freshPrefix();
    const opened = openRedis(prefix.url, prefix.prefix);
    return { store: new CachedStore(opened.store), dispose: () => opened.dispose().then(() => prefix.dispose()) };
  });
  contract(() => open.current.store, { sweepCounts: false });
});

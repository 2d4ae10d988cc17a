import {
  CachedStore,
  IdempotencyEngine,
  type IdempotencyStore,
  IdempotentCallError,
  idempotent,
  MemoryStore,
  parseIdempotencyKey,
  serializeKey,
  taskKey,
} from '@myrmex/idempotency';
import { postgres } from '@myrmex/test-utils';
import { describe, expect, it } from 'vitest';
import { quietLogger } from './helpers.js';
import { openPostgres } from './stores.js';

const pgGate = await postgres();

interface Message {
  readonly id: string;
  readonly amount: number;
}

describe('idempotent(fn): queue consumers, jobs and plain functions', () => {
  it('a message delivered three times is handled once; every delivery gets the first result', async () => {
    let charges = 0;
    const consume = idempotent(
      async (message: Message) => {
        charges++;
        return { charged: message.amount, charge: charges };
      },
      { store: new MemoryStore(), logger: quietLogger, key: (message) => message.id, name: 'charge' },
    );
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await consume({ id: 'msg-1', amount: 5 }));
    expect(charges).toBe(1);
    expect(results).toEqual([1, 2, 3].map(() => ({ charged: 5, charge: 1 })));
    expect(await consume({ id: 'msg-2', amount: 5 })).toEqual({ charged: 5, charge: 2 });
  });

  it('a call that throws records nothing, so the retry runs; another payload under a used key is refused', async () => {
    let runs = 0;
    const flaky = idempotent(
      async (message: Message) => {
        runs++;
        if (runs === 1) throw new Error('downstream down');
        return message.amount * 2;
      },
      { store: new MemoryStore(), logger: quietLogger, key: (message) => message.id, name: 'double' },
    );
    await expect(flaky({ id: 'm', amount: 2 })).rejects.toThrow('downstream down');
    expect(await flaky({ id: 'm', amount: 2 })).toBe(4);
    expect(runs).toBe(2);
    const refused = await flaky({ id: 'm', amount: 3 }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(IdempotentCallError);
    expect((refused as IdempotentCallError).kind).toBe('fingerprint-mismatch');
    expect(runs).toBe(2);
  });

  it('fingerprint picks what makes two calls the same; principals have their own key spaces', async () => {
    let runs = 0;
    const store = new MemoryStore();
    const handle = idempotent(
      async (tenant: string, message: Message & { receivedAt: number }) => {
        runs++;
        return `${tenant}:${message.amount}`;
      },
      {
        store,
        logger: quietLogger,
        name: 'handle',
        key: (_tenant, message) => message.id,
        principal: (tenant) => tenant,
        fingerprint: (_tenant, message) => message.amount,
      },
    );
    expect(await handle('acme', { id: 'x', amount: 1, receivedAt: 1 })).toBe('acme:1');
    expect(await handle('acme', { id: 'x', amount: 1, receivedAt: 2 })).toBe('acme:1');
    expect(await handle('globex', { id: 'x', amount: 1, receivedAt: 3 })).toBe('globex:1');
    expect(runs).toBe(2);
  });

  it('a concurrent call with the key in use fails with request-in-progress, or waits for the result with waitMs', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const store = new MemoryStore();
    const slow = async (id: string) => {
      await gate;
      return id.toUpperCase();
    };
    const impatient = idempotent(slow, { store, logger: quietLogger, key: (id) => id });
    const patient = idempotent(slow, { store, logger: quietLogger, key: (id) => id, waitMs: 10_000 });
    const first = impatient('k');
    const waiting = patient('k');
    const second = await impatient('k').catch((error: unknown) => error);
    expect((second as IdempotentCallError).kind).toBe('request-in-progress');
    release();
    expect(await first).toBe('K');
    expect(await waiting).toBe('K');
  });

  it('refuses bad arguments with the field named', () => {
    expect(() => idempotent(undefined as never, { store: new MemoryStore(), key: () => 'k' })).toThrow('fn must be a function');
    expect(() => idempotent(async () => 1, { store: new MemoryStore(), key: 'k' as never })).toThrow('options.key must be a function');
    expect(() => idempotent(async () => 1, { store: new MemoryStore(), key: () => 'k' })).toThrow('options.name is required');
  });
});

pgGate.describe('idempotent(fn) on PostgreSQL', () => {
  it('two engines on one PostgreSQL racing 20 deliveries of one message run it exactly once', async () => {
    const db = await pgGate.freshDatabase();
    const opened = await openPostgres(db.url);
    try {
      await opened.store.ensureSchema();
      await opened.pool.query('CREATE TABLE charges (message text)');
      const consumers = [0, 1].map(() =>
        idempotent(
          async (message: Message) => {
            await opened.pool.query('INSERT INTO charges VALUES ($1)', [message.id]);
            return 'charged';
          },
          { store: opened.store, logger: quietLogger, key: (message) => message.id, name: 'charge', waitMs: 10_000 },
        ),
      );
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => consumers[i % 2]!({ id: 'msg', amount: 1 })));
      expect(new Set(results)).toEqual(new Set(['charged']));
      expect((await opened.pool.query('SELECT count(*)::int AS n FROM charges')).rows[0].n).toBe(1);
    } finally {
      await opened.dispose();
      await db.dispose();
    }
  });
});

describe('CachedStore', () => {
  it('replays from memory after the first lookup; claims of new keys and pending ones still go to the remote store', async () => {
    const remote = new MemoryStore();
    const calls: string[] = [];
    const counted = new Proxy(remote, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver);
        return typeof value === 'function'
          ? (...args: unknown[]) => {
              calls.push(String(name));
              return value.apply(target, args);
            }
          : value;
      },
    }) as IdempotencyStore;
    const cached = new CachedStore(counted, { maxEntries: 2 });
    const engine = new IdempotencyEngine({ store: cached, logger: quietLogger });
    const request = (key: string) => ({ method: 'POST', route: '/r', principal: 'p', key, body: Buffer.from('{}') });
    const first = await engine.begin(request('a'));
    if (first.kind !== 'execute') throw new Error(first.kind);
    expect((await engine.begin(request('a'))).kind).toBe('problem'); // pending: asked the remote store
    await first.lease.complete({ status: 201, headers: {}, body: Buffer.from('done') });
    calls.length = 0;
    for (let i = 0; i < 5; i++) expect((await engine.begin(request('a'))).kind).toBe('replay');
    expect(calls).toEqual(['claim']); // the first replay read it from the remote store, the other four from memory
    expect(cached.hits).toBe(4);
  });

  it('never keeps a record past its retention, and evicts the least recently used beyond maxEntries', async () => {
    const remote = new MemoryStore();
    const cached = new CachedStore(remote, { maxEntries: 1, ttlMs: 1_000_000 });
    const now = Date.now();
    const done = (scope: string, expiresAt: number) =>
      remote
        .claim({ scope, fingerprint: 'f', token: 't', now, leaseExpiresAt: now + 100, expiresAt })
        .then(() => remote.complete({ scope, token: 't', response: { status: 200, headers: {}, body: Buffer.from(scope) }, expiresAt }));
    await done('a', now + 50);
    await done('b', now + 10_000);
    expect((await cached.get('a', now))?.state).toBe('completed');
    expect(await cached.get('a', now + 60)).toBeUndefined();
    await cached.get('b', now);
    await cached.get('b', now);
    expect(cached.hits).toBe(1);
    expect(() => new CachedStore(remote, { maxEntries: 0 })).toThrow('options.maxEntries must be a positive integer');
  });
});

describe('taskKey: the Idempotency-Key of an orchestrator HTTP task', () => {
  it('is the same for every attempt of one task in one job and differs across tasks and jobs; it is a valid key', () => {
    const key = taskKey({ jobId: 'job-1', taskType: 'charge' });
    expect(taskKey({ jobId: 'job-1', taskType: 'charge' })).toBe(key);
    expect(taskKey({ jobId: 'job-1', taskType: 'refund' })).not.toBe(key);
    expect(taskKey({ jobId: 'job-2', taskType: 'charge' })).not.toBe(key);
    // JSON framing: ("a b", "c") and ("a", "b c") do not collide.
    expect(taskKey({ jobId: 'a', taskType: 'b:c' })).not.toBe(taskKey({ jobId: 'a:b', taskType: 'c' }));
    expect(parseIdempotencyKey(serializeKey(key))).toEqual({ ok: true, key });
    expect(() => taskKey({ jobId: '', taskType: 'x' })).toThrow('jobId must be a non-empty string');
  });
});

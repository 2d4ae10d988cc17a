// One test per anti-pattern of "How Duplicate Detection Became the Dangerous Impostor of True
// Idempotency". Each would fail against the naive version the article describes.
import type { AddressInfo } from 'node:net';
import { IdempotencyEngine, MemoryStore, StaleLeaseError, scopeOf, startSweeper, stepKey } from '@myrmex/idempotency';
import { idempotencyHooks, withIdempotency } from '@myrmex/idempotency/fastify';
import { PostgresStore } from '@myrmex/idempotency/postgres';
import { RedisStore } from '@myrmex/idempotency/redis';
import { freshEach, postgres, redis } from '@myrmex/test-utils';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { type PaymentsApp, paymentsApp, post, quietLogger, until } from './helpers.js';
import { openPostgres, openSqlite } from './stores.js';

const pgGate = await postgres();
const redisGate = await redis();

let server: PaymentsApp | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const body = { amount: 100 };
const request = (key: string, over: Partial<Parameters<IdempotencyEngine['begin']>[0]> = {}) => ({
  method: 'POST',
  route: '/orders',
  principal: 'trader-1',
  key,
  body: Buffer.from('{"symbol":"AAPL","qty":100}'),
  ...over,
});

describe('the twelve anti-patterns', () => {
  it('1. server-generated keys: two identical business operations with their own client keys both execute', async () => {
    server = await paymentsApp();
    const first = await post(`${server.url}/payments`, body, { 'idempotency-key': 'order-a' });
    const second = await post(`${server.url}/payments`, body, { 'idempotency-key': 'order-b' });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.headers.get('idempotent-replayed')).toBeNull();
    expect(server.executions()).toBe(2);
    // And no key is ever invented from the content: without one the request is refused.
    expect((await post(`${server.url}/payments`, body)).status).toBe(400);
  });

  pgGate.describe('2. check-then-act (PostgreSQL, 10 connections)', () => {
    const db = freshEach(() => pgGate.freshDatabase());
    it('2. check-then-act: 60 simultaneous requests with one key execute once', async () => {
      const open = await openPostgres(db.current.url, 10);
      try {
        server = await paymentsApp({ store: open.store, delayMs: 50 });
        const responses = await Promise.all(
          Array.from({ length: 60 }, () => post(`${server!.url}/payments`, body, { 'idempotency-key': 'race' })),
        );
        expect(server.executions()).toBe(1);
        expect(responses.filter((response) => response.status === 201).length).toBeGreaterThanOrEqual(1);
        expect(responses.every((response) => response.status === 201 || response.status === 409)).toBe(true);
      } finally {
        await server?.close();
        server = undefined;
        await open.dispose();
      }
    });
  });

  it('3. concurrent in-progress request: 409 with Retry-After while the first runs, the replay after', async () => {
    server = await paymentsApp({ delayMs: 500 });
    const first = post(`${server.url}/payments`, body, { 'idempotency-key': 'slow' });
    await until(() => server!.executions() === 1, 5000, 'the first request to start');
    const during = await post(`${server.url}/payments`, body, { 'idempotency-key': 'slow' });
    expect(during.status).toBe(409);
    expect(during.headers.get('retry-after')).toBe('1');
    expect(((await during.json()) as { type: string }).type).toMatch(/#problem-request-in-progress$/);
    const original = await first;
    const after = await post(`${server.url}/payments`, body, { 'idempotency-key': 'slow' });
    expect(await after.text()).toBe(await original.text());
    expect(server.executions()).toBe(1);
  });

  it('4. optional keys: POST and PATCH without a key get 400 and run nothing; requiredMethods adds more', async () => {
    const engine = new IdempotencyEngine({ store: new MemoryStore(), logger: quietLogger });
    for (const method of ['POST', 'PATCH']) {
      const begin = await engine.begin(request('x', { method, key: undefined }));
      expect(begin.kind === 'problem' && begin.problem.status).toBe(400);
    }
    expect((await engine.begin(request('x', { method: 'PUT', key: undefined }))).kind).toBe('pass');
    const strict = new IdempotencyEngine({
      store: new MemoryStore(),
      logger: quietLogger,
      requiredMethods: ['POST', 'PUT', 'PATCH', 'DELETE'],
    });
    expect((await strict.begin(request('x', { method: 'PUT', key: undefined }))).kind).toBe('problem');
  });

  it('5. failed responses: a 4xx answer is replayed even after the state that caused it changed; a 5xx is not kept', async () => {
    let balance = 0;
    let outage = true;
    server = await paymentsApp({ status: (sent) => (sent.amount === 1 ? (outage ? 503 : 201) : balance < 100 ? 402 : 201) });
    const declined = await post(`${server.url}/payments`, body, { 'idempotency-key': 'poor' });
    expect(declined.status).toBe(402);
    balance = 500;
    const retry = await post(`${server.url}/payments`, body, { 'idempotency-key': 'poor' });
    expect(retry.status).toBe(402);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(await retry.text()).toBe(await declined.text());
    expect(server.executions()).toBe(1);
    // A 5xx is not an answer: it is not kept, so the retry after the outage executes.
    expect((await post(`${server.url}/payments`, { amount: 1 }, { 'idempotency-key': 'outage' })).status).toBe(503);
    outage = false;
    const recovered = await post(`${server.url}/payments`, { amount: 1 }, { 'idempotency-key': 'outage' });
    expect(recovered.status).toBe(201);
    expect(recovered.headers.get('idempotent-replayed')).toBeNull();
    expect(server.executions()).toBe(3);
  });

  redisGate.describe('6. non-ACID storage (Redis, 4 connections)', () => {
    const prefix = freshEach(() => redisGate.freshPrefix());
    it('6. non-ACID storage: the Redis claim is one Lua step, so of 80 claims from 4 connections one wins', async () => {
      const clients = Array.from({ length: 4 }, () => new Redis(prefix.current.url, { maxRetriesPerRequest: 1 }));
      try {
        const engines = clients.map(
          (client) => new IdempotencyEngine({ store: new RedisStore({ client, prefix: prefix.current.prefix }), logger: quietLogger }),
        );
        const begins = await Promise.all(Array.from({ length: 80 }, (_, i) => engines[i % 4]!.begin(request('acid'))));
        expect(begins.filter((begin) => begin.kind === 'execute')).toHaveLength(1);
        expect(begins.filter((begin) => begin.kind === 'problem')).toHaveLength(79);
      } finally {
        await Promise.all(clients.map((client) => client.quit()));
      }
    });
  });

  it('7. orphaned PENDING: a key whose holder stopped renewing is taken over after the lease, once', async () => {
    const store = new MemoryStore();
    // maxHoldMs makes the first holder stop renewing, as a crashed or hung process would.
    const warnings: string[] = [];
    const hung = new IdempotencyEngine({
      store,
      leaseMs: 100,
      heartbeatMs: 30,
      maxHoldMs: 60,
      logger: { ...quietLogger, warn: (_details, message) => warnings.push(message) },
    });
    const healthy = new IdempotencyEngine({ store, leaseMs: 100, logger: quietLogger });
    const first = await hung.begin(request('orphan'));
    expect(first.kind).toBe('execute');
    expect((await healthy.begin(request('orphan'))).kind).toBe('problem');
    await new Promise((resolve) => setTimeout(resolve, 250));
    const retry = await healthy.begin(request('orphan'));
    expect(retry.kind).toBe('execute');
    expect(healthy.metrics.reclaims).toBe(1);
    if (retry.kind === 'execute') await retry.lease.complete({ status: 201, headers: {}, body: Buffer.from('second') });
    if (first.kind === 'execute')
      await expect(first.lease.complete({ status: 201, headers: {}, body: Buffer.from('first') })).rejects.toThrow(StaleLeaseError);
    expect(hung.metrics.staleCompletions).toBe(1);
    expect(warnings).toContain('stale completion rejected: the lease expired and another request took the key');
    const replay = await healthy.begin(request('orphan'));
    expect(replay.kind === 'replay' && replay.response.body.toString()).toBe('second');
  });

  it('8. missing fingerprint: the same key with another amount is 422; canonical JSON ignores key order', async () => {
    server = await paymentsApp();
    await post(`${server.url}/payments`, { amount: 100 }, { 'idempotency-key': 'fp' });
    const reused = await post(`${server.url}/payments`, { amount: 200 }, { 'idempotency-key': 'fp' });
    expect(reused.status).toBe(422);
    expect(((await reused.json()) as { type: string }).type).toMatch(/#problem-fingerprint-mismatch$/);
    expect(server.executions()).toBe(1);

    const raw = new IdempotencyEngine({ store: new MemoryStore(), logger: quietLogger });
    const canonical = new IdempotencyEngine({ store: new MemoryStore(), logger: quietLogger, fingerprint: 'canonical-json' });
    for (const engine of [raw, canonical]) {
      const first = await engine.begin(request('order', { body: Buffer.from('{"a":1,"b":2}') }));
      if (first.kind === 'execute') await first.lease.complete({ status: 201, headers: {}, body: Buffer.from('ok') });
    }
    const reordered = { body: Buffer.from('{ "b": 2, "a": 1 }') };
    expect((await raw.begin(request('order', reordered))).kind).toBe('problem');
    expect((await canonical.begin(request('order', reordered))).kind).toBe('replay');
  });

  it('9. ambiguous infrastructure failure: a store that cannot be reached gives 503 with Retry-After and runs nothing', async () => {
    const pool = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/none', connectionTimeoutMillis: 500 });
    pool.on('error', () => undefined);
    const client = new Redis('redis://127.0.0.1:1', { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
    client.on('error', () => undefined);
    try {
      for (const store of [new PostgresStore({ pool }), new RedisStore({ client })]) {
        server = await paymentsApp({ store });
        const response = await post(`${server.url}/payments`, body, { 'idempotency-key': 'down' });
        expect(response.status).toBe(503);
        expect(response.headers.get('retry-after')).toBe('1');
        expect(((await response.json()) as { type: string }).type).toMatch(/#problem-store-unavailable$/);
        expect(server.executions()).toBe(0);
        expect(server.engine.metrics.storeErrors).toBe(1);
        await server.close();
      }
      // Fail-open only when asked for, and the response says it was unprotected.
      server = await paymentsApp({ store: new PostgresStore({ pool }), failOpen: true });
      const open = await post(`${server.url}/payments`, body, { 'idempotency-key': 'down' });
      expect(open.status).toBe(201);
      expect(open.headers.get('idempotency-status')).toBe('unprotected');
    } finally {
      await pool.end();
      client.disconnect();
    }
  });

  pgGate.describe('10. no rollback on a failed key save (PostgreSQL atomic mode)', () => {
    const db = freshEach(() => pgGate.freshDatabase());
    it('10. missing rollback: the business row and the key commit together, or neither does', async () => {
      const open = await openPostgres(db.current.url);
      let clock = Date.now();
      const engine = new IdempotencyEngine({ store: open.store, leaseMs: 1000, clock: () => clock, logger: quietLogger });
      try {
        await open.pool.query('CREATE TABLE ledger (id text PRIMARY KEY)');
        const count = async () => Number((await open.pool.query('SELECT count(*) AS n FROM ledger')).rows[0].n);
        const insert = (id: string) => async (client: pg.PoolClient) => {
          await client.query('INSERT INTO ledger (id) VALUES ($1)', [id]);
          return { status: 201, headers: { 'content-type': 'text/plain' }, body: Buffer.from(id) };
        };

        const ok = await engine.begin(request('atomic-ok'));
        if (ok.kind !== 'execute') throw new Error('expected to execute');
        await open.store.atomic(ok.lease, insert('a'));
        expect(await count()).toBe(1);
        expect((await engine.begin(request('atomic-ok'))).kind).toBe('replay');

        const stale = await engine.begin(request('atomic-stale'));
        if (stale.kind !== 'execute') throw new Error('expected to execute');
        clock += 2000;
        const takeover = await engine.begin(request('atomic-stale'));
        expect(takeover.kind).toBe('execute');
        await expect(open.store.atomic(stale.lease, insert('b'))).rejects.toThrow(StaleLeaseError);
        expect(await count()).toBe(1);

        const failing = await engine.begin(request('atomic-throws'));
        if (failing.kind !== 'execute') throw new Error('expected to execute');
        await expect(
          open.store.atomic(failing.lease, async (client) => {
            await insert('c')(client);
            throw new Error('payment provider refused');
          }),
        ).rejects.toThrow('payment provider refused');
        expect(await count()).toBe(1);
        const retried = await engine.begin(request('atomic-throws'));
        expect(retried.kind).toBe('execute');
        for (const begin of [takeover, retried]) if (begin.kind === 'execute') await begin.lease.release();
      } finally {
        await open.dispose();
      }
    });
  });

  it('10. missing rollback (SQLite atomic mode): a stale completion rolls the business write back', async () => {
    const open = openSqlite();
    let clock = Date.now();
    const engine = new IdempotencyEngine({ store: open.store, leaseMs: 1000, clock: () => clock, logger: quietLogger });
    const db = open.database;
    db.exec('CREATE TABLE ledger (id TEXT PRIMARY KEY)');
    const stale = await engine.begin(request('s'));
    clock += 2000;
    await engine.begin(request('s'));
    if (stale.kind !== 'execute') throw new Error('expected to execute');
    expect(() =>
      open.store.atomic(stale.lease, (database) => {
        database.prepare('INSERT INTO ledger (id) VALUES (?)').run('x');
        return { status: 201, headers: {}, body: Buffer.from('x') };
      }),
    ).toThrow(StaleLeaseError);
    expect(db.prepare('SELECT count(*) AS n FROM ledger').get()).toEqual({ n: 0 });
    await open.dispose();
  });

  it('11. insufficient window: a retry 23 h later replays; after 24 h the record is gone and the sweeper purges it', async () => {
    let clock = Date.UTC(2026, 10, 25, 12);
    const open = openSqlite();
    const engine = new IdempotencyEngine({ store: open.store, clock: () => clock, logger: quietLogger });
    const first = await engine.begin(request('mobile'));
    if (first.kind === 'execute') await first.lease.complete({ status: 201, headers: {}, body: Buffer.from('done') });
    clock += 23 * 3600_000;
    expect((await engine.begin(request('mobile'))).kind).toBe('replay');
    clock += 3600_000;
    // Expired on read already, before any sweep has run.
    expect(
      await open.store.get(scopeOf({ principal: 'trader-1', method: 'POST', route: '/orders', key: 'mobile' }), clock),
    ).toBeUndefined();
    const sweeper = startSweeper({ store: open.store, clock: () => clock, intervalMs: 60_000 });
    expect(await sweeper.sweepNow()).toBe(1);
    sweeper.stop();
    expect((await engine.begin(request('mobile'))).kind).toBe('execute');
    await open.dispose();
  });

  it('12. uncorrelated workflow steps: a retried workflow derives the same step keys and resumes at the failed step', async () => {
    const runs = { order: 0, charge: 0, allocate: 0 };
    let chargeFails = true;
    const app = Fastify();
    const hooks = idempotencyHooks({ store: new MemoryStore(), logger: quietLogger, principal: () => 'shop' });
    app.post<{ Params: { step: keyof typeof runs } }>('/steps/:step', withIdempotency(hooks), async (req, reply) => {
      runs[req.params.step]++;
      if (req.params.step === 'charge' && chargeFails) return reply.code(503).send({ retry: true });
      return reply.code(201).send({ step: req.params.step, run: runs[req.params.step] });
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const workflow = async (parent: string) => {
      for (const step of ['order', 'charge', 'allocate'] as const) {
        const response = await post(`${url}/steps/${step}`, {}, { 'idempotency-key': stepKey(parent, step) });
        if (response.status >= 500) return false;
      }
      return true;
    };
    try {
      expect(await workflow('checkout-42')).toBe(false);
      chargeFails = false;
      expect(await workflow('checkout-42')).toBe(true);
      expect(await workflow('checkout-42')).toBe(true);
      expect(runs).toEqual({ order: 1, charge: 2, allocate: 1 });
      expect(stepKey('checkout-42', 'charge')).not.toBe(stepKey('checkout-43', 'charge'));
      expect(stepKey('checkout-42', 'charge')).not.toBe(stepKey('checkout-42', 'allocate'));
    } finally {
      await app.close();
    }
  });
});

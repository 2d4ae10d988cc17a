import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { idempotencyOf, jsonResponse, MemoryStore, scopeOf } from '@myrmex/idempotency';
import { idempotency, idempotencyHooks, withIdempotency } from '@myrmex/idempotency/fastify';
import fc from 'fast-check';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { type PaymentsApp, paymentsApp, post, quietLogger, until } from './helpers.js';
import { openSqlite } from './stores.js';

let server: PaymentsApp | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('Fastify plugin', () => {
  it('replays the first response byte for byte with Idempotent-Replayed and allowlisted headers only', async () => {
    server = await paymentsApp();
    const first = await post(`${server.url}/payments`, { amount: 5 }, { 'idempotency-key': 'k1' });
    const second = await post(`${server.url}/payments`, { amount: 5 }, { 'idempotency-key': '"k1"' });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(await second.text()).toBe(await first.text());
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(second.headers.get('location')).toBe(first.headers.get('location'));
    expect(second.headers.get('content-type')).toBe(first.headers.get('content-type'));
    expect(second.headers.get('set-cookie')).toBeNull();
    expect(server.executions()).toBe(1);
  });

  it('property: over HTTP, every 201 to a key has the same status, headers and bytes, and at most one is an original', async () => {
    const outcomes: boolean[] = [];
    server = await paymentsApp({ status: () => (outcomes.shift() ? 503 : 201) });
    const url = `${server.url}/payments`;
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 1, maxLength: 12 }),
        fc.array(fc.boolean(), { maxLength: 12 }),
        async (keys, failures) => {
          run++;
          outcomes.splice(0, outcomes.length, ...failures);
          const responses = await Promise.all(keys.map((key) => post(url, { amount: 1 }, { 'idempotency-key': `${run}-${key}` })));
          const seen = new Map<string, { originals: number; answers: Set<string> }>();
          for (const [i, response] of responses.entries()) {
            expect([201, 409, 503]).toContain(response.status);
            const text = await response.text();
            if (response.status !== 201) continue;
            const entry = seen.get(keys[i]!) ?? { originals: 0, answers: new Set<string>() };
            if (response.headers.get('idempotent-replayed') === null) entry.originals++;
            entry.answers.add(JSON.stringify([response.headers.get('content-type'), response.headers.get('location'), text]));
            seen.set(keys[i]!, entry);
          }
          for (const { originals, answers } of seen.values()) {
            expect(originals).toBeLessThanOrEqual(1);
            expect(answers.size).toBe(1);
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it('answers problem+json 400 for a missing or malformed key and executes nothing', async () => {
    server = await paymentsApp();
    const missing = await post(`${server.url}/payments`, { amount: 1 });
    expect(missing.status).toBe(400);
    expect(missing.headers.get('content-type')).toBe('application/problem+json');
    expect(((await missing.json()) as { type: string }).type).toMatch(/#problem-key-missing$/);
    const malformed = await post(`${server.url}/payments`, { amount: 1 }, { 'idempotency-key': '"unterminated' });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { type: string }).type).toMatch(/#problem-key-malformed$/);
    const tooLong = await post(`${server.url}/payments`, { amount: 1 }, { 'idempotency-key': 'x'.repeat(256) });
    expect(tooLong.status).toBe(400);
    expect(server.executions()).toBe(0);
  });

  it('releases the key after a 5xx so a retry executes, and keeps a 4xx answer', async () => {
    let fail = true;
    server = await paymentsApp({ status: (body) => (body.amount === 0 ? 400 : fail ? 503 : 201) });
    expect((await post(`${server.url}/payments`, { amount: 3 }, { 'idempotency-key': 'r' })).status).toBe(503);
    fail = false;
    expect((await post(`${server.url}/payments`, { amount: 3 }, { 'idempotency-key': 'r' })).status).toBe(201);
    expect(server.executions()).toBe(2);
    expect((await post(`${server.url}/payments`, { amount: 0 }, { 'idempotency-key': 'z' })).status).toBe(400);
    const again = await post(`${server.url}/payments`, { amount: 0 }, { 'idempotency-key': 'z' });
    expect(again.status).toBe(400);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(server.executions()).toBe(3);
  });

  it('scopes keys by principal: the same key from two users runs twice', async () => {
    server = await paymentsApp();
    await post(`${server.url}/payments`, { amount: 2 }, { 'idempotency-key': 'shared', 'x-user': 'alice' });
    const bob = await post(`${server.url}/payments`, { amount: 2 }, { 'idempotency-key': 'shared', 'x-user': 'bob' });
    expect(bob.headers.get('idempotent-replayed')).toBeNull();
    expect(server.executions()).toBe(2);
  });

  it('needs the application to say who owns a key: no principal function, no hooks', () => {
    expect(() => idempotencyHooks({ store: new MemoryStore() } as never)).toThrow('options.principal must be a function');
  });

  it('waits for the first request when waitMs is set and replays its response', async () => {
    server = await paymentsApp({ delayMs: 150, waitMs: 2000 });
    const [a, b] = await Promise.all([
      post(`${server.url}/payments`, { amount: 9 }, { 'idempotency-key': 'w' }),
      post(`${server.url}/payments`, { amount: 9 }, { 'idempotency-key': 'w' }),
    ]);
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(await a.text()).toBe(await b.text());
    expect(server.executions()).toBe(1);
  });

  it('does not store a body over maxBodyBytes, says so in a header and releases the key', async () => {
    server = await paymentsApp({ maxBodyBytes: 10 });
    const first = await post(`${server.url}/payments`, { amount: 1 }, { 'idempotency-key': 'big' });
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotency-not-stored')).toBe('body-too-large');
    await post(`${server.url}/payments`, { amount: 1 }, { 'idempotency-key': 'big' });
    expect(server.executions()).toBe(2);
  });

  it('as a plugin protects only the routes of its scope; GET and opted-out routes need no key', async () => {
    const app = Fastify();
    let runs = 0;
    await app.register(async (scope) => {
      await scope.register(idempotency, { store: new MemoryStore(), logger: quietLogger, principal: () => 'tenant-1' });
      scope.post('/jobs', async (_request, reply) => reply.code(201).send({ job: ++runs }));
      scope.get('/jobs', async () => ({ runs }));
      scope.post('/jobs/preview', { config: { idempotency: false } }, async () => ({ preview: true }));
    });
    app.post('/outside', async () => ({ outside: true }));
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
      expect((await post(`${url}/jobs`, {})).status).toBe(400);
      expect((await post(`${url}/jobs`, {}, { 'idempotency-key': 'j' })).status).toBe(201);
      expect((await post(`${url}/jobs`, {}, { 'idempotency-key': 'j' })).headers.get('idempotent-replayed')).toBe('true');
      expect(await (await fetch(`${url}/jobs`)).json()).toEqual({ runs: 1 });
      expect((await post(`${url}/jobs/preview`, {})).status).toBe(200);
      expect((await post(`${url}/outside`, {})).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('answers 409 lease-lost to a request whose lease was taken over, and replays the winner to it afterwards', async () => {
    const gates: (() => void)[] = [];
    const app = Fastify();
    // maxHoldMs makes the first holder stop renewing, as a stalled process would.
    const store = new MemoryStore();
    const scope = scopeOf({ principal: 'p', method: 'POST', route: '/slow', key: 'taken' });
    const hooks = idempotencyHooks({
      store,
      leaseMs: 100,
      heartbeatMs: 30,
      maxHoldMs: 40,
      logger: quietLogger,
      principal: () => 'p',
    });
    let runs = 0;
    app.post('/slow', withIdempotency(hooks), async (_request, reply) => {
      const run = ++runs;
      await new Promise<void>((resolve) => gates.push(resolve));
      return reply.code(201).send({ run });
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/slow`;
      const stalled = post(url, {}, { 'idempotency-key': 'taken' });
      await until(() => gates.length === 1, 5000, 'the first request to start');
      await until(
        async () => {
          const record = await store.get(scope, Date.now());
          return record?.state === 'pending' && record.leaseExpiresAt <= Date.now();
        },
        5000,
        'the stalled lease to lapse',
      );
      const winner = post(url, {}, { 'idempotency-key': 'taken' });
      await until(() => gates.length === 2, 5000, 'the takeover to start');
      gates[1]!();
      expect(await (await winner).json()).toEqual({ run: 2 });
      gates[0]!();
      const lost = await stalled;
      expect(lost.status).toBe(409);
      expect(((await lost.json()) as { type: string }).type).toMatch(/#problem-lease-lost$/);
      // The stalled holder knew it had lost the key at maxHoldMs, so it never tried to record its result.
      expect(hooks.engine.metrics).toMatchObject({ executions: 2, reclaims: 1, leasesLost: 1, staleCompletions: 0 });
      expect(await (await post(url, {}, { 'idempotency-key': 'taken' })).json()).toEqual({ run: 2 });
    } finally {
      await app.close();
    }
  });

  it('atomic mode: a response the policy will not keep rolls the work back and answers problem+json', async () => {
    const open = openSqlite();
    open.database.exec('CREATE TABLE ledger (id INTEGER PRIMARY KEY AUTOINCREMENT)');
    const app = Fastify();
    const hooks = idempotencyHooks({ store: open.store, logger: quietLogger, principal: () => 'p', maxBodyBytes: 64 });
    let runs = 0;
    app.post<{ Body: { status: number; pad?: string } }>('/atomic', withIdempotency(hooks), async (request, reply) => {
      runs++;
      const response = open.store.atomic(idempotencyOf(request)?.lease, (db) => {
        db.prepare('INSERT INTO ledger DEFAULT VALUES').run();
        return jsonResponse(request.body.status, { pad: request.body.pad ?? '' });
      });
      return reply.code(response.status).headers(response.headers).send(response.body);
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/atomic`;
      for (const [body, detail] of [
        [{ status: 503 }, /status 503 is not stored/],
        [{ status: 201, pad: 'x'.repeat(100) }, /over maxBodyBytes \(64\)/],
      ] as const) {
        const refused = await post(url, body, { 'idempotency-key': `refused-${body.status}` });
        expect(refused.status).toBe(500);
        expect(refused.headers.get('content-type')).toBe('application/problem+json');
        const problem = (await refused.json()) as { type: string; detail: string };
        expect(problem.type).toMatch(/#problem-response-not-storable$/);
        expect(problem.detail).toMatch(detail);
      }
      expect(open.database.prepare('SELECT count(*) AS n FROM ledger').get()).toEqual({ n: 0 });
      // The key was released: a retry executes again instead of replaying the refusal.
      const retried = await post(url, { status: 503 }, { 'idempotency-key': 'refused-503' });
      expect(retried.status).toBe(500);
      expect(retried.headers.get('idempotent-replayed')).toBeNull();
      expect(runs).toBe(3);
    } finally {
      await app.close();
      await open.dispose();
    }
  });

  it('releases the key of a streamed response and says it was not stored', async () => {
    const app = Fastify();
    let runs = 0;
    app.post(
      '/stream',
      { ...idempotencyHooks({ store: new MemoryStore(), logger: quietLogger, principal: () => 'p' }) },
      async (_request, reply) => {
        runs++;
        return reply
          .code(200)
          .type('text/plain')
          .send(Readable.from(['chunk-1 ', 'chunk-2']));
      },
    );
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/stream`;
      const first = await post(url, {}, { 'idempotency-key': 's' });
      expect(await first.text()).toBe('chunk-1 chunk-2');
      expect(first.headers.get('idempotency-not-stored')).toBe('streamed-body');
      await post(url, {}, { 'idempotency-key': 's' });
      expect(runs).toBe(2);
    } finally {
      await app.close();
    }
  });
});

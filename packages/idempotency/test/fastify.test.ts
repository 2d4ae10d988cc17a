import type { AddressInfo } from 'node:net';
import { MemoryStore } from '@myrmex/idempotency';
import { idempotency } from '@myrmex/idempotency/fastify';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { type PaymentsApp, paymentsApp, post, quietLogger } from './helpers.js';

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
});

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MemoryStore } from '@myrmex/idempotency';
import { idempotencyMiddleware, keepRawBody } from '@myrmex/idempotency/express';
import { PostgresStore } from '@myrmex/idempotency/postgres';
import express from 'express';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { post, quietLogger, until } from './helpers.js';

let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

async function start(app: express.Express): Promise<string> {
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server!.once('listening', resolve));
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
}

function paymentsApp(options: { parser?: boolean; gate?: Promise<void> } = {}) {
  const app = express();
  let runs = 0;
  if (options.parser) app.use(express.json({ verify: keepRawBody }));
  const protect = idempotencyMiddleware({ store: new MemoryStore(), logger: quietLogger, principal: () => 'acct-1' });
  app.post('/payments', protect, async (request, response) => {
    runs++;
    await options.gate;
    if (request.body.amount < 0) return void response.status(500).json({ error: 'boom' });
    response.status(201).location(`/payments/${runs}`).cookie('s', '1').json({ id: runs, amount: request.body.amount });
  });
  return { app, runs: () => runs };
}

describe('Express middleware', () => {
  for (const parser of [false, true]) {
    it(`replays byte for byte (${parser ? 'behind express.json with keepRawBody' : 'reading the body itself'})`, async () => {
      const { app, runs } = paymentsApp({ parser });
      const url = await start(app);
      const first = await post(`${url}/payments`, { amount: 4 }, { 'idempotency-key': 'e1' });
      const second = await post(`${url}/payments`, { amount: 4 }, { 'idempotency-key': 'e1' });
      expect(first.status).toBe(201);
      expect(second.status).toBe(201);
      expect(await second.text()).toBe(await first.text());
      expect(second.headers.get('idempotent-replayed')).toBe('true');
      expect(second.headers.get('location')).toBe('/payments/1');
      expect(second.headers.get('set-cookie')).toBeNull();
      expect(runs()).toBe(1);
      const other = await post(`${url}/payments`, { amount: 5 }, { 'idempotency-key': 'e1' });
      expect(other.status).toBe(422);
      expect(other.headers.get('content-type')).toBe('application/problem+json');
    });
  }

  it('rejects a missing key, releases after a 500 and answers 409 to a concurrent duplicate', async () => {
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const { app, runs } = paymentsApp({ gate });
    const url = await start(app);
    expect((await post(`${url}/payments`, { amount: 1 })).status).toBe(400);
    const first = post(`${url}/payments`, { amount: 1 }, { 'idempotency-key': 'e3' });
    await until(() => runs() === 1, 5000, 'the first request to reach the handler');
    const conflict = await post(`${url}/payments`, { amount: 1 }, { 'idempotency-key': 'e3' });
    expect(conflict.status).toBe(409);
    expect(conflict.headers.get('retry-after')).toBe('1');
    open();
    expect((await first).status).toBe(201);
    expect((await post(`${url}/payments`, { amount: -1 }, { 'idempotency-key': 'e2' })).status).toBe(500);
    expect((await post(`${url}/payments`, { amount: -1 }, { 'idempotency-key': 'e2' })).status).toBe(500);
    expect(runs()).toBe(3);
  });

  it('releases the key when the handler throws, so the retry executes', async () => {
    const app = express();
    let runs = 0;
    app.post('/charge', idempotencyMiddleware({ store: new MemoryStore(), logger: quietLogger, principal: () => 'acct-1' }), async () => {
      runs++;
      throw new Error('card network down');
    });
    const url = await start(app);
    expect((await post(`${url}/charge`, {}, { 'idempotency-key': 'thrown' })).status).toBe(500);
    expect((await post(`${url}/charge`, {}, { 'idempotency-key': 'thrown' })).status).toBe(500);
    expect(runs).toBe(2);
  });

  it('answers 503 with Retry-After when the store is down, and runs unprotected only with failOpen', async () => {
    const pool = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/none', connectionTimeoutMillis: 500 });
    pool.on('error', () => undefined);
    let runs = 0;
    const app = express();
    const store = new PostgresStore({ pool });
    const handler = (_request: express.Request, response: express.Response) => void response.status(201).json({ run: ++runs });
    app.post('/closed', idempotencyMiddleware({ store, logger: quietLogger, principal: () => 'acct-1' }), handler);
    app.post('/open', idempotencyMiddleware({ store, logger: quietLogger, principal: () => 'acct-1', failOpen: true }), handler);
    try {
      const url = await start(app);
      const closed = await post(`${url}/closed`, {}, { 'idempotency-key': 'down' });
      expect(closed.status).toBe(503);
      expect(closed.headers.get('retry-after')).toBe('1');
      expect(((await closed.json()) as { type: string }).type).toMatch(/#problem-store-unavailable$/);
      expect(runs).toBe(0);
      const open = await post(`${url}/open`, {}, { 'idempotency-key': 'down' });
      expect(open.status).toBe(201);
      expect(open.headers.get('idempotency-status')).toBe('unprotected');
      expect(runs).toBe(1);
    } finally {
      await pool.end();
    }
  });

  it('needs the application to say who owns a key: no principal function, no middleware', () => {
    expect(() => idempotencyMiddleware({ store: new MemoryStore() } as never)).toThrow('options.principal must be a function');
  });

  it('answers 400 problem for a JSON body it cannot parse', async () => {
    const { app, runs } = paymentsApp();
    const url = await start(app);
    const response = await fetch(`${url}/payments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'e4' },
      body: '{"amount":',
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { type: string }).type).toMatch(/#problem-body-invalid$/);
    expect(runs()).toBe(0);
  });
});

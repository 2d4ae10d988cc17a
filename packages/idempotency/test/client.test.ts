import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AttemptReport, callReport, createIdempotentFetch, retryAfterMs } from '@myrmex/idempotency/client';
import { afterEach, describe, expect, it } from 'vitest';
import { type PaymentsApp, paymentsApp, until } from './helpers.js';

type Script = (request: IncomingMessage, response: ServerResponse, seen: { key: string | undefined; body: string }[]) => void;

let server: Server | undefined;
let app: PaymentsApp | undefined;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  await app?.close();
  server = undefined;
  app = undefined;
});

/** A loopback server that answers each request with the next step of a script. */
async function scripted(steps: Script[]): Promise<{ url: string; seen: { key: string | undefined; body: string }[] }> {
  const seen: { key: string | undefined; body: string }[] = [];
  server = createServer(async (request, response) => {
    let body = '';
    for await (const chunk of request) body += chunk;
    seen.push({ key: request.headers['idempotency-key'] as string | undefined, body });
    (steps[seen.length - 1] ?? steps[steps.length - 1]!)(request, response, seen);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const status =
  (code: number, headers: Record<string, string> = {}): Script =>
  (_request, response) => {
    response.writeHead(code, headers).end(JSON.stringify({ code }));
  };
/** The server library's own 409: the first request with this key is still running. */
const inProgress =
  (headers: Record<string, string> = {}): Script =>
  (_request, response) => {
    response
      .writeHead(409, { 'content-type': 'application/problem+json', ...headers })
      .end(JSON.stringify({ type: 'https://www.npmjs.com/package/@myrmex/idempotency#problem-request-in-progress', status: 409 }));
  };
const dropConnection: Script = (request) => request.socket.destroy();
const fast = { baseDelayMs: 1, maxDelayMs: 5 };

describe('createIdempotentFetch', () => {
  it('reuses one key across network errors, 503, 409 with Retry-After and 429, then returns the answer', async () => {
    const { url, seen } = await scripted([dropConnection, status(503), inProgress({ 'retry-after': '0' }), status(429), status(201)]);
    const reports: AttemptReport[] = [];
    const call = createIdempotentFetch({ ...fast, maxAttempts: 6, onAttempt: (report) => reports.push(report) });
    const response = await call(`${url}/payments`, {
      method: 'POST',
      body: '{"amount":5}',
      headers: { 'content-type': 'application/json' },
    });
    expect(response.status).toBe(201);
    expect(seen).toHaveLength(5);
    expect(new Set(seen.map((request) => request.key)).size).toBe(1);
    // A Structured Field string, as the IETF draft requires; the report gives the key itself.
    expect(seen[0]!.key).toMatch(/^"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"$/);
    expect(seen.every((request) => request.body === '{"amount":5}')).toBe(true);
    expect(callReport(response)).toEqual({ key: seen[0]!.key!.slice(1, -1), attempts: 5 });
    expect(reports.map((report) => report.status ?? 'error')).toEqual(['error', 503, 409, 429, 201]);
  });

  it('gives each logical call its own key and keeps a key the caller set', async () => {
    const { url, seen } = await scripted([status(201)]);
    const call = createIdempotentFetch(fast);
    await call(url, { method: 'POST', body: 'a' });
    await call(url, { method: 'POST', body: 'a' });
    await call(url, { method: 'PATCH', body: 'a', headers: { 'Idempotency-Key': 'mine' } });
    expect(seen[0]!.key).not.toBe(seen[1]!.key);
    expect(seen[2]!.key).toBe('"mine"');
  });

  it("never retries an application's own 409 (a plain one or another problem type): it is an answer", async () => {
    const taken: Script = (_request, response) => {
      response
        .writeHead(409, { 'content-type': 'application/problem+json' })
        .end('{"type":"https://example.com/username-taken","status":409}');
    };
    for (const script of [status(409), taken]) {
      const { url, seen } = await scripted([script, status(201)]);
      const response = await createIdempotentFetch(fast)(url, { method: 'POST', body: 'x' });
      expect(response.status).toBe(409);
      expect(seen).toHaveLength(1);
      await new Promise((resolve) => server?.close(resolve));
    }
  });

  it('quotes a key the caller set as a bare token, keeps a quoted one, and the server accepts both', async () => {
    const { url, seen } = await scripted([status(201)]);
    const call = createIdempotentFetch(fast);
    await call(url, { method: 'POST', body: 'a', headers: { 'Idempotency-Key': 'say "hi"' } });
    await call(url, { method: 'POST', body: 'a', headers: { 'Idempotency-Key': '"quoted"' } });
    expect(seen.map((request) => request.key)).toEqual(['"say \\"hi\\""', '"quoted"']);
  });

  for (const code of [400, 422, 404]) {
    it(`never retries ${code}`, async () => {
      const { url, seen } = await scripted([status(code), status(201)]);
      const response = await createIdempotentFetch(fast)(url, { method: 'POST', body: 'x' });
      expect(response.status).toBe(code);
      expect(seen).toHaveLength(1);
    });
  }

  it('stops at maxAttempts and returns the last response', async () => {
    const { url, seen } = await scripted([status(503)]);
    const response = await createIdempotentFetch({ ...fast, maxAttempts: 3 })(url, { method: 'POST', body: 'x' });
    expect(response.status).toBe(503);
    expect(seen).toHaveLength(3);
    expect(callReport(response)?.attempts).toBe(3);
  });

  it('stops within totalTimeoutMs instead of waiting out a long Retry-After', async () => {
    const { url, seen } = await scripted([inProgress({ 'retry-after': '30' }), status(201)]);
    const started = Date.now();
    const response = await createIdempotentFetch({ ...fast, totalTimeoutMs: 500 })(url, { method: 'POST', body: 'x' });
    expect(response.status).toBe(409);
    expect(seen).toHaveLength(1);
    // Far below the 30 s Retry-After, with room for a loaded machine.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('an AbortSignal stops the waits between attempts', async () => {
    const { url, seen } = await scripted([status(503, { 'retry-after': '5' })]);
    const controller = new AbortController();
    // The caller gives up once the first attempt is answered, while the client waits out Retry-After.
    const call = createIdempotentFetch({ ...fast, onAttempt: () => controller.abort(new Error('caller gave up')) });
    await expect(call(url, { method: 'POST', body: 'x', signal: controller.signal })).rejects.toThrow('caller gave up');
    expect(seen).toHaveLength(1);
  });

  it("an AbortSignal stops an attempt in flight with the caller's reason, and nothing is retried", async () => {
    const { url, seen } = await scripted([() => undefined]);
    const controller = new AbortController();
    const attempts: AttemptReport[] = [];
    const pending = createIdempotentFetch({ ...fast, onAttempt: (report) => attempts.push(report) })(url, {
      method: 'POST',
      body: 'x',
      signal: controller.signal,
    });
    await until(() => seen.length === 1, 5000, 'the first attempt to arrive');
    controller.abort(new Error('user navigated away'));
    await expect(pending).rejects.toThrow('user navigated away');
    expect(seen).toHaveLength(1);
    expect(attempts).toEqual([]);
  });

  it('does not retry a POST when POST is not a keyed method', async () => {
    const { url, seen } = await scripted([status(503), status(201)]);
    const response = await createIdempotentFetch({ ...fast, keyedMethods: ['PATCH'] })(url, { method: 'POST', body: 'x' });
    expect(response.status).toBe(503);
    expect(seen[0]!.key).toBeUndefined();
  });

  it('against a protected server, retries of a slow call get the one execution replayed', async () => {
    app = await paymentsApp({ delayMs: 200 });
    const call = createIdempotentFetch({ baseDelayMs: 20, maxDelayMs: 100, maxAttempts: 30 });
    const responses = await Promise.all(
      [0, 1, 2].map(() =>
        call(`${app!.url}/payments`, {
          method: 'POST',
          body: '{"amount":7}',
          headers: { 'content-type': 'application/json', 'idempotency-key': 'one-call' },
        }),
      ),
    );
    expect(responses.map((response) => response.status)).toEqual([201, 201, 201]);
    expect(new Set(await Promise.all(responses.map((response) => response.text()))).size).toBe(1);
    expect(app.executions()).toBe(1);
  });

  it('names the bad option', () => {
    expect(() => createIdempotentFetch({ maxAttempts: 0 })).toThrow('options.maxAttempts must be an integer >= 1, got 0');
    expect(() => createIdempotentFetch({ baseDelayMs: 500, maxDelayMs: 100 })).toThrow('options.maxDelayMs must be at least');
    expect(() => createIdempotentFetch({ totalTimeoutMs: 1.5 })).toThrow('options.totalTimeoutMs');
    expect(() => createIdempotentFetch({ fetch: 'curl' as never })).toThrow('options.fetch must be a function');
    expect(() => createIdempotentFetch({ keyedMethods: 'POST' as never })).toThrow('options.keyedMethods');
  });

  it('waits full jitter from @myrmex/backoff: after failed attempt n, up to min(cap, base * 2^(n-1)), both ends reachable', async () => {
    const { url } = await scripted([status(503)]);
    const waits = async (random: number) => {
      const reports: AttemptReport[] = [];
      await createIdempotentFetch({
        baseDelayMs: 1,
        maxDelayMs: 5,
        maxAttempts: 6,
        random: () => random,
        onAttempt: (r) => reports.push(r),
      })(url, {
        method: 'POST',
        body: 'x',
      });
      return reports.map((report) => report.delayMs);
    };
    expect(await waits(0.999_999)).toEqual([1, 2, 4, 5, 5, undefined]);
    expect(await waits(0)).toEqual([0, 0, 0, 0, 0, undefined]);
  });

  it('Retry-After reads seconds and dates', () => {
    expect(retryAfterMs('3', 0)).toBe(3000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4000)).toBe(6000);
    expect(retryAfterMs('soon', 0)).toBeUndefined();
  });
});

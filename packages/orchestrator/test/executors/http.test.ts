import { createHttpExecutor, type HttpMethod } from '@myrmex/orchestrator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './http-server.js';
import { run, spec } from './run.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer((request, response) => {
    const path = new URL(request.url, 'http://x').pathname;
    if (path === '/echo') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          method: request.method,
          url: request.url,
          type: request.headers['content-type'] ?? null,
          auth: request.headers.authorization ?? null,
          body: request.body,
        }),
      );
    } else if (path === '/big') {
      response.writeHead(200);
      response.end('x'.repeat(200_000));
    } else if (path === '/endless') {
      response.writeHead(200);
      const chunk = 'y'.repeat(16 * 1024);
      const timer = setInterval(() => response.write(chunk), 5);
      response.on('close', () => clearInterval(timer));
    } else if (path === '/hang') {
      response.writeHead(200);
      response.write('partial');
    } else if (path.startsWith('/status/')) {
      response.writeHead(Number(path.slice('/status/'.length)));
      response.end(`status ${path.slice(8)}\nsecond line`);
    } else {
      response.writeHead(404);
      response.end('not found');
    }
  });
});
afterAll(() => server.close());

const http = (method: HttpMethod, fields: Record<string, unknown>) =>
  run(createHttpExecutor(method, { maxBodyBytes: 1000 }), spec({ method, ...fields }));

describe('HTTP executors', () => {
  it('HTTP_GET: the status code is the exit code; query and headers are sent; status and body are outputs', async () => {
    const { result, outputs, logs } = await http('HTTP_GET', {
      url: `${server.url}/echo?a=1`,
      query: { b: 'two words' },
      headers: { authorization: 'Bearer t' },
    });
    expect(result).toEqual({ exitCode: 200, succeeded: true });
    const echoed = JSON.parse(outputs.body!);
    expect(echoed).toMatchObject({ method: 'GET', url: '/echo?a=1&b=two+words', auth: 'Bearer t', type: null, body: '' });
    expect(outputs.status).toBe('200');
    expect(logs[0]).toMatchObject({ stream: 'system', text: `GET ${server.url}/echo?a=1&b=two+words` });
    expect(logs.some((l) => l.stream === 'stdout' && l.text === outputs.body)).toBe(true);
  });

  it('HTTP_POST_JSON and HTTP_PUT_JSON send the body as JSON; HTTP_DELETE sends none', async () => {
    for (const [method, verb] of [
      ['HTTP_POST_JSON', 'POST'],
      ['HTTP_PUT_JSON', 'PUT'],
    ] as const) {
      const { outputs } = await http(method, { url: `${server.url}/echo`, body: { name: 'ant', n: [1, 2] } });
      expect(JSON.parse(outputs.body!)).toMatchObject({ method: verb, type: 'application/json', body: '{"name":"ant","n":[1,2]}' });
    }
    const { outputs } = await http('HTTP_DELETE', { url: `${server.url}/echo` });
    expect(JSON.parse(outputs.body!)).toMatchObject({ method: 'DELETE', body: '' });
  });

  it('a non-2xx status fails the attempt with that code', async () => {
    for (const code of [404, 500, 302]) {
      const { result, outputs, logs } = await http('HTTP_GET', { url: `${server.url}/status/${code}` });
      expect(result).toEqual({ exitCode: code, succeeded: false });
      expect(outputs.status).toBe(String(code));
      expect(logs.filter((l) => l.stream === 'stdout').map((l) => l.text)).toEqual([`status ${code}`, 'second line']);
    }
  });

  it('keeps at most maxBodyBytes of the body and notes the truncation', async () => {
    const { result, outputs, logs } = await http('HTTP_GET', { url: `${server.url}/big` });
    expect(result.exitCode).toBe(200);
    expect(outputs.body).toBe('x'.repeat(1000));
    expect(logs.some((l) => l.stream === 'system' && l.text.includes('body truncated to 1000 bytes'))).toBe(true);
  });

  it('bounds the body at 64 KiB by default and stops reading an endless one', async () => {
    const { result, outputs, logs } = await run(
      createHttpExecutor('HTTP_GET'),
      spec({ method: 'HTTP_GET', url: `${server.url}/endless`, timeoutMs: 10_000 }),
    );
    expect(result).toEqual({ exitCode: 200, succeeded: true });
    expect(outputs.body).toBe('y'.repeat(64 * 1024));
    expect(logs.some((l) => l.stream === 'system' && l.text.includes('body truncated to 65536 bytes'))).toBe(true);
  });

  it('times out a response that never ends', async () => {
    const { result, ms } = await http('HTTP_GET', { url: `${server.url}/hang`, timeoutMs: 200 });
    expect(result).toEqual({ succeeded: false, error: 'timed out after 200ms' });
    expect(ms).toBeLessThan(3000);
  });

  it('stops on cancel with the cancel reason', async () => {
    const controller = new AbortController();
    const pending = run(createHttpExecutor('HTTP_GET'), spec({ method: 'HTTP_GET', url: `${server.url}/hang` }), controller.signal);
    setTimeout(() => controller.abort('job cancelled'), 100);
    expect((await pending).result).toEqual({ succeeded: false, error: 'job cancelled' });
  });

  it('reports a refused connection, an invalid url and a missing url', async () => {
    const closed = await startServer(() => {});
    await closed.close();
    const refused = await http('HTTP_GET', { url: `${closed.url}/x` });
    expect(refused.result.succeeded).toBe(false);
    expect(refused.result.error).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/x failed: fetch failed: .*ECONNREFUSED/);
    expect((await http('HTTP_GET', { url: 'not a url' })).result).toEqual({ succeeded: false, error: "invalid url 'not a url'" });
    expect((await http('HTTP_GET', {})).result).toEqual({ succeeded: false, error: 'HTTP_GET needs a url' });
  });
});

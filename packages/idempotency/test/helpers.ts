import type { AddressInfo } from 'node:net';
import { type EngineOptions, IdempotencyEngine, jsonResponse, MemoryStore } from '@myrmex/idempotency';
import { idempotencyHooks, withIdempotency } from '@myrmex/idempotency/fastify';
import Fastify, { type FastifyInstance } from 'fastify';

export interface PaymentsApp {
  readonly app: FastifyInstance;
  readonly url: string;
  readonly engine: IdempotencyEngine;
  /** How many times the handler ran its side effect. */
  readonly executions: () => number;
  close(): Promise<void>;
}

export interface PaymentsAppOptions extends Partial<EngineOptions> {
  readonly delayMs?: number;
  /** Status the handler answers with; default 201. */
  readonly status?: (body: { amount?: number }) => number;
}

/** A real Fastify server on loopback with one protected route, `POST /payments`. */
export async function paymentsApp(options: PaymentsAppOptions = {}): Promise<PaymentsApp> {
  const { delayMs = 0, status = () => 201, ...engineOptions } = options;
  const engine = new IdempotencyEngine({ store: new MemoryStore(), logger: quietLogger, ...engineOptions });
  const app = Fastify();
  let executions = 0;
  const hooks = idempotencyHooks({ engine, principal: (request) => String(request.headers['x-user'] ?? 'alice') });
  app.post<{ Body: { amount?: number } }>('/payments', withIdempotency(hooks), async (request, reply) => {
    executions++;
    const id = `pay_${executions}`;
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    const code = status(request.body);
    if (code >= 500) throw Object.assign(new Error('downstream failed'), { statusCode: code });
    reply.code(code).header('location', `/payments/${id}`).header('set-cookie', 'session=1');
    return { id, amount: request.body.amount, at: process.hrtime.bigint().toString() };
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${port}`, engine, executions: () => executions, close: () => app.close() };
}

export const quietLogger = { warn: () => undefined, error: () => undefined };

export function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

export { jsonResponse };

/** Polls until `check` holds, so tests wait for a state instead of guessing a delay. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

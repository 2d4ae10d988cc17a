import type { AddressInfo } from 'node:net';
import { MemoryStore } from '@myrmex/idempotency';
import { idempotencyHooks, withIdempotency } from '@myrmex/idempotency/fastify';
import { createHttpExecutor, type ExecutionContext } from '@myrmex/orchestrator';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spec } from './run.js';

/** A real payments server protected by @myrmex/idempotency: it charges once per key. */
const app = Fastify();
let charges = 0;
const keys: (string | undefined)[] = [];
let url = '';
beforeAll(async () => {
  const hooks = idempotencyHooks({ store: new MemoryStore(), principal: () => 'orchestrator' });
  app.post('/charge', withIdempotency(hooks), async (request, reply) => {
    keys.push(request.headers['idempotency-key'] as string | undefined);
    charges++;
    return reply.code(201).send({ charge: charges });
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/charge`;
});
afterAll(() => app.close());

async function attempt(jobId: string, taskType: string, attemptNo: number, headers: Record<string, string> = {}) {
  const outputs: Record<string, string> = {};
  const context: ExecutionContext = {
    jobId,
    taskType,
    attempt: attemptNo,
    spec: spec({ method: 'HTTP_POST_JSON', url, body: { amount: 5 }, headers }),
    signal: new AbortController().signal,
    log: () => undefined,
    output: (key, value) => {
      outputs[key] = value;
    },
    started: () => undefined,
  };
  const result = await createHttpExecutor('HTTP_POST_JSON').execute(context);
  return { result, outputs };
}

describe('HTTP_POST_JSON sends an Idempotency-Key derived from the job and the task', () => {
  it('a retried attempt of one task is answered with the first result, not charged twice', async () => {
    const first = await attempt('job-7', 'charge', 1);
    const retry = await attempt('job-7', 'charge', 2);
    expect(first.result).toEqual({ exitCode: 201, succeeded: true });
    expect(retry.result).toEqual({ exitCode: 201, succeeded: true });
    expect(retry.outputs.body).toBe(first.outputs.body);
    expect(charges).toBe(1);
    // Another job or another task is another request.
    await attempt('job-8', 'charge', 1);
    await attempt('job-7', 'refund', 1);
    expect(charges).toBe(3);
    expect(keys[0]).toMatch(/^"task:[A-Za-z0-9_-]+"$/);
  });

  it('a key the task sets itself is sent unchanged', async () => {
    await attempt('job-9', 'charge', 1, { 'Idempotency-Key': '"from-the-definition"' });
    expect(keys.at(-1)).toBe('"from-the-definition"');
  });
});

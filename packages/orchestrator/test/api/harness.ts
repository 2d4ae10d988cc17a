import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterEach, beforeEach } from 'vitest';
import { createApi, type JobDetailWire, type JobSummaryWire, PROBLEM_CONTENT_TYPE, type ProblemWire, Queen } from '../../src/index.js';
import { openIdempotencyFile } from '../../src/server/idempotency.js';

/**
 * A real queen on a temporary SQLite file behind the real API (with Idempotency-Key records in
 * their own file, as `serve` sets it up), listening on a free loopback port.
 */
export interface ApiUnderTest {
  readonly url: string;
  readonly queen: Queen;
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

async function open(dir: string): Promise<ApiUnderTest> {
  const dbPath = join(dir, 'myrmex.db');
  const queen = await Queen.open({ dbPath, ant: { capacity: 4 }, pollIntervalMs: 20, shutdownGraceMs: 200 });
  await queen.start();
  const idempotency = openIdempotencyFile(dbPath, pino({ level: 'silent' }));
  const app = await createApi(queen, { heartbeatMs: 200, idempotencyStore: idempotency.store });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const close = async () => {
    await app.close();
    idempotency.close();
    await queen.stop();
  };
  return { url, queen, app, close };
}

/** A fresh API per test; closed (streams, server, queen) and deleted after it. */
export function apiPerTest(): { readonly current: ApiUnderTest } {
  const ref: { current: ApiUnderTest } = { current: undefined as unknown as ApiUnderTest };
  let dir = '';
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'myrmex-api-'));
    ref.current = await open(dir);
  });
  afterEach(async () => {
    await ref.current.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return ref;
}

export interface Reply<T> {
  readonly status: number;
  readonly contentType: string;
  readonly headers: Headers;
  readonly body: T;
}

export async function call<T = unknown>(
  api: ApiUnderTest,
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
  headers: Record<string, string> = {},
): Promise<Reply<T>> {
  const init: RequestInit = { method, headers };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers = { 'content-type': contentType, ...headers };
  }
  const response = await fetch(`${api.url}${path}`, init);
  const text = await response.text();
  const type = response.headers.get('content-type') ?? '';
  return { status: response.status, contentType: type, headers: response.headers, body: (text === '' ? undefined : JSON.parse(text)) as T };
}

/** Asserts an RFC 9457 problem and returns it. */
export function expectProblem(reply: Reply<unknown>, status: number): ProblemWire {
  if (reply.status !== status || !reply.contentType.startsWith(PROBLEM_CONTENT_TYPE)) {
    throw new Error(`expected a ${status} problem, got ${reply.status} ${reply.contentType}: ${JSON.stringify(reply.body)}`);
  }
  const problem = reply.body as ProblemWire;
  for (const key of ['type', 'title', 'status', 'detail', 'instance'] as const) {
    if (problem[key] === undefined) throw new Error(`problem lacks ${key}: ${JSON.stringify(problem)}`);
  }
  if (problem.status !== status) throw new Error(`problem.status ${problem.status} differs from the HTTP status ${status}`);
  return problem;
}

export async function apply(api: ApiUnderTest, yaml: string): Promise<void> {
  const reply = await call(api, 'POST', '/api/jobs/definitions', yaml, 'application/yaml');
  if (reply.status !== 201 && reply.status !== 200) throw new Error(`apply failed: ${JSON.stringify(reply.body)}`);
}

export async function submit(api: ApiUnderTest, body: Record<string, unknown>): Promise<JobSummaryWire> {
  const reply = await call<JobSummaryWire>(api, 'POST', '/api/jobs/requests', body);
  if (reply.status !== 201) throw new Error(`submit failed: ${JSON.stringify(reply.body)}`);
  return reply.body;
}

/** Polls GET /api/jobs/requests/:id until `done` holds (the API is the only way in). */
export async function waitFor(
  api: ApiUnderTest,
  id: string,
  done: (job: JobDetailWire) => boolean,
  timeoutMs = 15_000,
): Promise<JobDetailWire> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = (await call<JobDetailWire>(api, 'GET', `/api/jobs/requests/${id}`)).body;
    if (done(job)) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${job.state} after ${timeoutMs} ms: ${JSON.stringify(job)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export const ended = (job: JobDetailWire): boolean => ['COMPLETED', 'FAILED', 'CANCELLED'].includes(job.state);

/** Reads a server-sent-events response to its end: every event, in order. */
export async function readEvents(
  response: Response,
  onEvent: (event: { event: string; id?: string; data: unknown }) => void = () => {},
): Promise<{ event: string; id?: string; data: unknown }[]> {
  const events: { event: string; id?: string; data: unknown }[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf('\n\n');
      const fields = new Map<string, string>();
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        fields.set(line.slice(0, colon), line.slice(colon + 2));
      }
      if (!fields.has('data')) continue;
      const event = {
        event: fields.get('event') ?? 'message',
        ...(fields.has('id') ? { id: fields.get('id') } : {}),
        data: JSON.parse(fields.get('data') ?? 'null'),
      };
      events.push(event);
      onEvent(event);
    }
  }
  return events;
}

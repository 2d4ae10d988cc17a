import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import {
  createApi,
  type JobStore,
  type NewJob,
  type OpenedAuth,
  openAuth,
  openStoreSync,
  Queen,
  type RateLimitOptions,
  type SqlStore,
} from '../../src/index.js';

/** A job of type `t` with one task `a`, filed under `org`. */
export function job(id: string, org = 'default'): NewJob {
  return { id, jobType: 't', version: 1, priority: 1, params: {}, submittedAt: new Date(), scheduledAt: new Date(), taskTypes: ['a'], org };
}

/** Admits a job made by {@link job} and makes its task READY; throws when the store refuses. */
export async function makeReady(store: JobStore, jobId: string): Promise<void> {
  const events = await store.apply(jobId, {
    at: new Date(),
    job: { state: 'READY', reason: 'admitted' },
    tasks: [{ taskType: 'a', state: 'READY', reason: 'ready' }],
  });
  if (!events) throw new Error(`the store refused to make ${jobId} READY`);
}

export const DEFINITION = (jobType: string) => `job_type: ${jobType}\ntasks:\n  - task_type: a\n    method: SHELL\n    script: ["true"]\n`;

export interface SecuredApi {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly queen: Queen;
  readonly auth: OpenedAuth;
  readonly store: SqlStore;
  close(): Promise<void>;
}

/** A real queen on `db` (a fresh SQLite file when absent) behind the real API with authentication on. */
export async function openSecured(options: { db?: string; rateLimit?: RateLimitOptions; bootstrap?: boolean } = {}): Promise<SecuredApi> {
  const dir = options.db ? undefined : mkdtempSync(join(tmpdir(), 'myrmex-sec-api-'));
  const store = openStoreSync(options.db ?? join(dir as string, 'myrmex.db'));
  await store.opened();
  const queen = await Queen.open({ store, ant: { capacity: 2 }, pollIntervalMs: 20, shutdownGraceMs: 200 });
  await queen.start();
  const auth = await openAuth(store.security(), { env: {}, ...(options.bootstrap === false ? { bootstrap: false } : {}) });
  const app = await createApi(queen, {
    heartbeatMs: 200,
    auth: { ...auth, ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}) },
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url,
    app,
    queen,
    auth,
    store,
    close: async () => {
      await app.close();
      await queen.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Answer {
  readonly status: number;
  readonly type: string;
  readonly text: string;
  // biome-ignore lint/suspicious/noExplicitAny: parsed JSON answers; the assertions check their shape
  readonly body: any;
}

export async function req(
  api: { url: string },
  method: string,
  path: string,
  token?: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const init: RequestInit = { method, headers: { ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) } };
  if (body !== undefined) {
    const yaml = typeof body === 'string';
    init.body = yaml ? body : JSON.stringify(body);
    init.headers = { 'content-type': yaml ? 'application/yaml' : 'application/json', ...init.headers };
  }
  let response: Response;
  try {
    response = await fetch(`${api.url}${path}`, { ...init, signal: AbortSignal.timeout(15_000) });
  } catch (error) {
    throw new Error(`${method} ${path}: ${(error as Error).message}`);
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: response.status, type: response.headers.get('content-type') ?? '', text, body: parsed };
}

import { postgres } from '@myrmex/test-utils';
import { expect, it } from 'vitest';
import { createApi, type Executor, PostgresStore, Queen } from '../../src/index.js';
import { TcpProxy } from '../ant/remote/tcp-proxy.js';
import { type ApiUnderTest, call, expectProblem } from '../api/harness.js';

/**
 * The database away under load (issue 11): a queen reaches PostgreSQL through a TCP proxy this test
 * controls (the shared server is never restarted). While the proxy drops every connection and
 * black-holes new ones, the API answers 503 with a problem document saying the database cannot be
 * reached; once the link heals, the queen serves and runs jobs again by itself, and every job whose
 * submission was acknowledged ends COMPLETED.
 */

const gate = await postgres();

const NOOP: Executor = { method: 'NOOP', execute: async () => ({ exitCode: 0, succeeded: true }) };
// A claim whose COMMIT reached the database as the link dropped leaves an attempt no ant runs: it lapses
// and is reaped, and the retry runs it (see lost-claim.test.ts); without a retry that job would fail.
const DEFINITION = 'job_type: away\ntasks:\n  - task_type: only\n    method: NOOP\n    retry: 2\n';

/** Polls `probe` until it returns a value, or fails after `timeoutMs` saying what it waited for. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`still waiting for ${what} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

gate.describe('the database away', () => {
  it('answers 503 while PostgreSQL is unreachable, then recovers by itself and loses no acknowledged job', async () => {
    const db = await gate.freshDatabase();
    const target = new URL(db.url);
    const proxy = new TcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    await proxy.listen();
    const proxied = new URL(db.url);
    proxied.port = String(proxy.port);
    const store = PostgresStore.open({ url: proxied.toString(), poolSize: 4, connectTimeoutMs: 2000 });
    const queen = await Queen.open({
      store,
      ant: { capacity: 4 },
      executors: [NOOP],
      pollIntervalMs: 50,
      shutdownGraceMs: 200,
      attemptLeaseMs: 2000,
    });
    const app = await createApi(queen, { heartbeatMs: 200 });
    const api: ApiUnderTest = { url: await app.listen({ host: '127.0.0.1', port: 0 }), queen, app, close: async () => {} };
    const acknowledged: string[] = [];
    const refused: unknown[] = [];
    let submitting = true;
    let away = false;
    let client: Promise<void> = Promise.resolve();
    try {
      await queen.start();
      await queen.applyDefinition(DEFINITION);
      // Load: a client that keeps submitting throughout, noting what was acknowledged and what was refused.
      client = (async () => {
        while (submitting) {
          const reply = await call<{ id: string }>(api, 'POST', '/api/jobs/requests', { job_type: 'away' });
          if (reply.status === 201) acknowledged.push(reply.body.id);
          else refused.push(expectProblem(reply, 503));
        }
      })();
      await until('jobs to be submitted before the outage', async () => (acknowledged.length >= 20 ? true : undefined));

      away = true;
      proxy.pause();
      proxy.cut();
      const problem = await until('a 503 while the database is away', async () => (refused.length > 0 ? refused.at(-1) : undefined));
      expect(problem).toMatchObject({
        type: 'urn:myrmex:problem:store-unavailable',
        status: 503,
        title: 'The database cannot be reached',
        detail: 'the queen cannot reach its database at the moment; retry shortly',
      });
      // Reads say so too, whichever route they take.
      expectProblem(await call(api, 'GET', '/api/jobs/requests'), 503);
      const before = acknowledged.length;

      proxy.resume();
      away = false;
      await until('submissions to be acknowledged again', async () => (acknowledged.length > before + 20 ? true : undefined));
      submitting = false;
      await client;
      // Every acknowledged job is stored and runs to its end (a refused one may or may not exist: the client retries those).
      await until(
        'every acknowledged job to complete',
        async () => {
          const states = await Promise.all(acknowledged.map(async (id) => (await queen.getJob(id))?.state));
          return states.every((state) => state === 'COMPLETED') ? true : undefined;
        },
        60_000,
      );
      expect(new Set(acknowledged).size).toBe(acknowledged.length);
    } finally {
      submitting = false;
      await client.catch(() => undefined);
      if (away) proxy.resume();
      await app.close();
      await queen.stop();
      await proxy.close();
      await db.dispose();
    }
  }, 120_000);
});

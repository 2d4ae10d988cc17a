import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PostgresStore, Queen } from '@myrmex/orchestrator';
import { postgres } from '@myrmex/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApi } from '../../src/api/index.js';
import { finished, startQueen, until } from './helpers.js';

/**
 * HTTP circuit breakers (issue 14) against a real HTTP server on loopback that fails, then recovers.
 * `open_for` is the only wait here that is time itself: the tests wait for the breaker's own state
 * to say a probe may go, never for a guessed delay.
 */
let server: Server;
let healthy = false;
let hits = 0;
let host = '';

beforeEach(async () => {
  healthy = false;
  hits = 0;
  server = createServer((_request, response) => {
    hits++;
    response.writeHead(healthy ? 200 : 503, { 'content-type': 'text/plain' }).end(healthy ? 'ok' : 'down');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const definition = (jobType: string, breaker: Record<string, unknown>) =>
  JSON.stringify({
    job_type: jobType,
    tasks: [{ task_type: 'call', method: 'HTTP_GET', url: `http://${host}/ping`, circuit_breaker: breaker }],
  });

const breakerOf = async (queen: Queen) => (await queen.circuitBreakers()).find((b) => b.host === host);

/** Waits until the open breaker's `open_for` has passed: the next task is the half-open probe. */
const probeDue = async (queen: Queen, openMs: number) =>
  until(async () => {
    const b = await breakerOf(queen);
    return b?.phase === 'open' && Date.now() >= b.openedAt! + openMs ? true : undefined;
  }, 20_000);

describe('HTTP circuit breaker on one queen', () => {
  it('fail fast: after 2 failures tasks to the host fail without calling it; a half-open probe that succeeds closes it', async () => {
    const queen = await startQueen();
    const app = await createApi(queen);
    try {
      await queen.applyDefinition(definition('ping', { failures: 2, open_for: '400ms', when_open: 'fail' }));
      for (let i = 0; i < 2; i++) expect((await finished(queen, (await queen.submit({ jobType: 'ping' })).id)).state).toBe('FAILED');
      expect(hits).toBe(2);
      const fast = await finished(queen, (await queen.submit({ jobType: 'ping' })).id);
      expect(fast.state).toBe('FAILED');
      expect(hits).toBe(2);
      expect(fast.tasks[0]!.attempts[0]!.reason ?? fast.tasks[0]!.reason).toMatch(
        new RegExp(`circuit open for ${host}: 2 failures in a row`),
      );
      const listed = (await app.inject({ method: 'GET', url: '/api/circuit-breakers' })).json();
      expect(listed).toEqual([
        { host, state: 'open', failures: 2, opened_at: expect.any(String), last_error: expect.any(String), updated_at: expect.any(String) },
      ]);

      healthy = true;
      await probeDue(queen, 400);
      expect((await finished(queen, (await queen.submit({ jobType: 'ping' })).id)).state).toBe('COMPLETED');
      expect(hits).toBe(3);
      expect(await breakerOf(queen)).toMatchObject({ phase: 'closed', failures: 0 });
      expect((await finished(queen, (await queen.submit({ jobType: 'ping' })).id)).state).toBe('COMPLETED');
    } finally {
      await app.close();
    }
  }, 60_000);

  it('wait: a task to an open host waits without using an attempt, and runs once the host recovers', async () => {
    const queen = await startQueen();
    await queen.applyDefinition(definition('ping', { failures: 1, open_for: '500ms', when_open: 'wait' }));
    expect((await finished(queen, (await queen.submit({ jobType: 'ping' })).id)).state).toBe('FAILED');
    const waiting = await queen.submit({ jobType: 'ping' });
    // It was put back, READY with the breaker's reason (the attempt it had claimed is CANCELLED, not a failure).
    await until(async () =>
      (await queen.getJob(waiting.id))!.tasks[0]!.reason?.startsWith('waiting: circuit open for') ? true : undefined,
    );
    expect(hits).toBe(1);
    healthy = true;
    const done = await finished(queen, waiting.id);
    expect(done.state).toBe('COMPLETED');
    expect(hits).toBe(2);
    const attempts = done.tasks[0]!.attempts;
    expect(attempts.at(-1)).toMatchObject({ state: 'COMPLETED' });
    expect(attempts.slice(0, -1).every((a) => a.state === 'CANCELLED')).toBe(true);
  }, 60_000);

  it('circuit_breaker: false keeps a task out of the queen-wide breaker', async () => {
    const queen = await startQueen({ circuitBreaker: { failures: 1, openMs: 60_000, whenOpen: 'fail' } });
    await queen.applyDefinition(definition('guarded', {}));
    await queen.applyDefinition(definition('unguarded', false as unknown as Record<string, unknown>));
    expect((await finished(queen, (await queen.submit({ jobType: 'guarded' })).id)).state).toBe('FAILED');
    expect((await finished(queen, (await queen.submit({ jobType: 'guarded' })).id)).state).toBe('FAILED');
    expect(hits).toBe(1);
    healthy = true;
    expect((await finished(queen, (await queen.submit({ jobType: 'unguarded' })).id)).state).toBe('COMPLETED');
    expect(hits).toBe(2);
  }, 60_000);
});

const gate = await postgres();

gate.describe('HTTP circuit breaker shared by two queens (PostgreSQL)', () => {
  it("one queen's failures open the breaker for the other; of many tasks due at once when half-open, one probes", async () => {
    const db = await gate.freshDatabase();
    const open = () => Queen.open({ store: PostgresStore.open({ url: db.url }), ant: { capacity: 4 }, pollIntervalMs: 50 });
    const [one, two] = [await open(), await open()];
    try {
      await one.start();
      await two.start();
      await one.applyDefinition(definition('ping', { failures: 2, open_for: '3s', when_open: 'fail' }));
      // Each queen runs its own submissions here only because the other has no ready work; either may run any.
      for (let i = 0; i < 2; i++) expect((await finished(one, (await one.submit({ jobType: 'ping' })).id)).state).toBe('FAILED');
      expect(hits).toBe(2);
      expect(await breakerOf(two)).toMatchObject({ phase: 'open', failures: 2 });
      const blocked = await Promise.all([one, two, one, two].map((q) => q.submit({ jobType: 'ping' })));
      for (const job of blocked) expect((await finished(two, job.id)).state).toBe('FAILED');
      expect(hits).toBe(2);

      // Still failing when half-open: of six tasks submitted at once through both queens, one reaches the host.
      await probeDue(two, 3000);
      const burst = await Promise.all([one, two, one, two, one, two].map((q) => q.submit({ jobType: 'ping' })));
      for (const job of burst) expect((await finished(one, job.id)).state).toBe('FAILED');
      expect(hits).toBe(3);
      expect(await breakerOf(one)).toMatchObject({ phase: 'open' });

      healthy = true;
      await probeDue(one, 3000);
      expect((await finished(two, (await two.submit({ jobType: 'ping' })).id)).state).toBe('COMPLETED');
      expect(await breakerOf(one)).toMatchObject({ phase: 'closed', failures: 0 });
    } finally {
      await two.stop();
      await one.stop();
      await db.dispose();
    }
  }, 90_000);
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ANT_SOCKET_PATH, antSocketRoutes, createApi, openStore, PROTOCOL_VERSION, Queen, staticAntTokens } from '@myrmex/orchestrator';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from './harness.js';
import { logBatch, RawAnt } from './raw-ant.js';

const ANY = 'any-ant-token-0123456789abcdef';
const BOUND = 'bound-ant-token-0123456789abcdef';
let dir: string;
let queen: Queen;
let app: FastifyInstance;
let url: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'myrmex-ant-protocol-'));
  queen = await Queen.open({ store: await openStore(join(dir, 'q.db')), ant: { capacity: 0 }, pollIntervalMs: 50, attemptLeaseMs: 900 });
  await queen.start();
  const authenticateAnt = staticAntTokens(`${ANY},ant-a=${BOUND}`);
  app = await createApi(queen, {
    extend: (scope) => antSocketRoutes(scope, { hub: queen.remoteAnts, authenticateAnt, drain: (id) => queen.drainAnt(id) }),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  url = `ws://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}${ANT_SOCKET_PATH}`;
});

afterAll(async () => {
  await app.close();
  await queen.stop();
  rmSync(dir, { recursive: true, force: true });
});

const open = async (token: string) => {
  const ant = await RawAnt.open(url, token);
  if (typeof ant === 'number') throw new Error(`upgrade refused with ${ant}`);
  return ant;
};

describe('the queen end of the remote ant protocol', () => {
  it('refuses the upgrade without a token or with an unknown one (401, before any socket)', async () => {
    expect(await RawAnt.open(url, undefined)).toBe(401);
    expect(await RawAnt.open(url, 'not-a-token-at-all-0123456789')).toBe(401);
  });

  it('refuses a protocol version it does not speak, saying which it does', async () => {
    const ant = await open(ANY);
    ant.send({ type: 'hello', versions: [99], ant: { id: 'future', methods: ['SHELL'], tags: [], capacity: 1 } });
    const refused = await ant.nth('refused');
    expect(refused.reason).toMatch(/version 99 .*speaks version 1/);
    expect(refused.versions).toEqual([1]);
    expect((await ant.closed).code).toBe(4001);
  });

  it('binds the connection to the token: a token for ant-a cannot register as ant-b', async () => {
    const ant = await open(BOUND);
    ant.hello('ant-b');
    expect((await ant.nth('refused')).reason).toMatch(/token is for ant 'ant-a'/);
    expect((await ant.closed).code).toBe(4001);
  });

  it('closes on a frame that is not protocol, naming the field', async () => {
    const ant = await open(ANY);
    ant.send({ type: 'hello', versions: [1], ant: { id: 'bad id!', methods: [], tags: [], capacity: 1 } });
    const closed = await ant.closed;
    expect(closed.code).toBe(4004);
    expect(closed.reason).toMatch(/ant\.id/);
  });

  it('re-sends an unacknowledged assign; stores a re-sent log batch once; accepts a result once; refuses results for others', async () => {
    const ant = await open(BOUND);
    ant.hello('ant-a');
    expect(await ant.nth('welcome')).toMatchObject({ version: 1, queen: queen.id });
    await queen.applyDefinition(`job_type: raw\ntasks:\n  - task_type: t\n    script: ['true']\n`);
    const job = await queen.submit({ jobType: 'raw' });
    const first = await ant.nth('assign');
    // Not acknowledged: the same assignment comes again, same fencing token.
    const again = await ant.nth('assign', 2);
    expect(again.assignment).toEqual(first.assignment);
    const assignmentId = (first.assignment as { id: string }).id;
    expect(assignmentId).toBe(`${job.id}/t/1`);
    ant.send({ type: 'ack', assignmentId });
    const batch = { type: 'logs', assignmentId, batch: 0, lines: [{ stream: 'stdout', text: 'only once', at: Date.now() }] };
    ant.send(batch);
    ant.send(batch);
    await ant.nth('logs-ack', 2);
    ant.send({ type: 'result', assignmentId: `${job.id}/t/7`, result: { succeeded: true, exitCode: 0 }, outputs: {} });
    expect(await ant.nth('result-ack')).toMatchObject({ assignmentId: `${job.id}/t/7`, accepted: false });
    const result = { type: 'result', assignmentId, result: { succeeded: true, exitCode: 0 }, outputs: { k: 'v' } };
    ant.send(result);
    expect(await ant.nth('result-ack', 2)).toMatchObject({ assignmentId, accepted: true });
    ant.send(result);
    expect(await ant.nth('result-ack', 3)).toMatchObject({ assignmentId, accepted: false });
    const detail = await queen.getJob(job.id);
    expect(detail).toMatchObject({ state: 'COMPLETED' });
    expect(detail!.tasks[0]!.attempts).toHaveLength(1);
    expect(detail!.tasks[0]!.outputs).toEqual({ k: 'v' });
    expect((await queen.logs(job.id)).filter((l) => l.text === 'only once')).toHaveLength(1);
    ant.ws.close();
    await ant.closed;
  });

  it('a log batch re-sent on the next connection (its ack lost with the first) is stored once', async () => {
    const first = await open(BOUND);
    first.hello('ant-a');
    await first.nth('welcome');
    await queen.applyDefinition(`job_type: relog\ntasks:\n  - task_type: t\n    script: ['true']\n`);
    const job = await queen.submit({ jobType: 'relog' });
    const assignmentId = ((await first.nth('assign')).assignment as { id: string }).id;
    first.send({ type: 'ack', assignmentId });
    const batch = (n: number) => logBatch(assignmentId, n);
    first.send(batch(0));
    first.send(batch(1));
    await first.nth('logs-ack', 2);
    // As if both acks had been lost: the ant reconnects and sends again what it holds, then more.
    first.ws.terminate();
    await first.closed;
    const second = await open(BOUND);
    second.hello('ant-a', { running: [assignmentId] });
    await second.nth('welcome');
    second.send(batch(0));
    second.send(batch(1));
    second.send(batch(2));
    expect((await second.nth('logs-ack', 3)).batch).toBe(2);
    second.send({ type: 'result', assignmentId, result: { succeeded: true, exitCode: 0 }, outputs: {} });
    expect(await second.nth('result-ack')).toMatchObject({ assignmentId, accepted: true });
    const lines = (await queen.logs(job.id)).map((l) => l.text).filter((t) => t.startsWith('line '));
    expect(lines).toEqual(['line 0', 'line 1', 'line 2']);
    second.ws.close();
    await second.closed;
  });

  it('the frames of several attempts sent in one burst: each attempt keeps its order (logs stored before its result is acknowledged), every result accepted once', async () => {
    const ant = await open(ANY);
    ant.send({ type: 'hello', versions: [PROTOCOL_VERSION], ant: { id: 'ant-burst', methods: ['SHELL'], tags: [], capacity: 4 } });
    await ant.nth('welcome');
    await queen.applyDefinition(`job_type: burst\ntasks:\n  - task_type: t\n    script: ['true']\n`);
    const jobs = await queen.submitMany(Array.from({ length: 4 }, () => ({ jobType: 'burst' })));
    const ids = await until(() => {
      const assigned = [...new Set(ant.frames.filter((f) => f.type === 'assign').map((f) => (f.assignment as { id: string }).id))];
      return assigned.length === 4 ? assigned : undefined;
    }, 'four assignments');
    for (const assignmentId of ids) ant.send({ type: 'ack', assignmentId });
    // Interleaved as a busy ant sends them: batch n of every attempt, then every result.
    for (const n of [0, 1, 2])
      for (const assignmentId of ids)
        ant.send({ type: 'logs', assignmentId, batch: n, lines: [{ stream: 'stdout', text: `line ${n}`, at: Date.now() }] });
    for (const assignmentId of ids) ant.send({ type: 'result', assignmentId, result: { succeeded: true, exitCode: 0 }, outputs: {} });
    for (const [i, job] of jobs.entries()) {
      const ack = await until(
        () => ant.frames.find((f) => f.type === 'result-ack' && f.assignmentId === `${job.id}/t/1`),
        `result-ack ${i}`,
      );
      expect(ack.accepted).toBe(true);
      const lines = (await queen.logs(job.id)).map((l) => l.text).filter((t) => t.startsWith('line '));
      expect(lines).toEqual(['line 0', 'line 1', 'line 2']);
    }
    for (const job of jobs) expect(await queen.getJob(job.id)).toMatchObject({ state: 'COMPLETED' });
    ant.ws.close();
    await ant.closed;
  });

  it('a drain request reaches the ant through the queen it is connected to; a reconnect without its attempt re-queues it at once', async () => {
    const ant = await open(ANY);
    ant.hello('ant-d');
    await ant.nth('welcome');
    await app.inject({ method: 'POST', url: '/api/ants/ant-d/drain' }).then((r) => expect(r.statusCode).toBe(202));
    expect(await ant.nth('drain')).toMatchObject({ reason: 'drain requested' });
    expect((await app.inject({ method: 'POST', url: '/api/ants/nobody/drain' })).statusCode).toBe(404);
    ant.ws.close();
    await ant.closed;

    const worker = await open(ANY);
    worker.hello('ant-r');
    await worker.nth('welcome');
    await queen.applyDefinition(`job_type: requeue\ntasks:\n  - task_type: t\n    retry: 1\n    script: ['true']\n`);
    const job = await queen.submit({ jobType: 'requeue' });
    const assign = await worker.nth('assign');
    worker.send({ type: 'ack', assignmentId: (assign.assignment as { id: string }).id });
    worker.ws.terminate();
    await worker.closed;
    // Back without the attempt (it restarted): the attempt fails as "ant lost" now, and its retry comes to it.
    const back = await open(ANY);
    back.hello('ant-r');
    const retry = await back.nth('assign');
    expect((retry.assignment as { attempt: number }).attempt).toBe(2);
    const detail = await queen.getJob(job.id);
    expect(detail!.tasks[0]!.attempts[0]!.reason).toMatch(/^ant lost: ant-r reconnected without/);
    back.ws.close();
    await back.closed;
  });

  it('an ant that says goodbye (CLOSE.stopping) holding an assignment: it is re-queued at once, as a drain when the ant was draining', async () => {
    await queen.applyDefinition(`job_type: goodbye\ntasks:\n  - task_type: t\n    script: ['true']\n`);
    for (const draining of [false, true]) {
      const ant = await open(ANY);
      ant.hello('ant-bye');
      await ant.nth('welcome');
      const job = await queen.submit({ jobType: 'goodbye' });
      const assign = await until(
        () => ant.frames.find((f) => f.type === 'assign' && (f.assignment as { jobId: string }).jobId === job.id),
        'the assignment',
      );
      ant.send({ type: 'ack', assignmentId: (assign.assignment as { id: string }).id });
      // The assignment crossed the drain: the ant leaves without running it.
      if (draining) ant.send({ type: 'draining' });
      ant.ws.close(1000, 'ant stopping');
      await ant.closed;
      const lost = await until(async () => {
        const attempt = (await queen.getJob(job.id))!.tasks[0]!.attempts[0]!;
        return attempt.state === 'EXECUTING' ? undefined : attempt;
      }, 'the attempt to end');
      // Not the reaper's "away past its lease": the goodbye ended it.
      expect(lost.reason).toMatch(draining ? /^ant draining: ant-bye left before running it/ : /^ant lost: ant-bye stopped/);
    }
  });

  it('an ant gone silent behind a link that swallows the close: its session ends within a heartbeat of the close, not after the 30 s close timeout, and its attempt is lost past its lease', async () => {
    const ant = await open(ANY);
    ant.hello('ant-mute');
    await ant.nth('welcome');
    await queen.applyDefinition(`job_type: mute\ntasks:\n  - task_type: t\n    script: ['true']\n`);
    const job = await queen.submit({ jobType: 'mute' });
    const assign = await ant.nth('assign');
    ant.send({ type: 'ack', assignmentId: (assign.assignment as { id: string }).id });
    // A black hole: nothing read any more (no pong, no answer to the close), the connection stays up.
    (ant.ws as unknown as { _socket: import('node:net').Socket })._socket.pause();
    const lost = await until(
      async () => {
        const attempt = (await queen.getJob(job.id))!.tasks[0]!.attempts[0]!;
        return attempt.state === 'EXECUTING' ? undefined : attempt;
      },
      'the attempt to be lost',
      15_000,
    );
    expect(lost.reason).toMatch(/^ant lost: ant-mute was away past its lease/);
    expect((await queen.ants()).some((a) => a.id === 'ant-mute' && a.queen === queen.id && a.remote && a.connected)).toBe(false);
    ant.ws.terminate();
  });
});

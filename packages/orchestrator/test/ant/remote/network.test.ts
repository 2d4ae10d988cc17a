import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { antSocketRoutes, createApi, type JobDetail, openStore, Queen, staticAntTokens } from '@myrmex/orchestrator';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Proc, startAnt, until } from './harness.js';
import { TcpProxy } from './tcp-proxy.js';

const TOKEN = 'network-test-token-0123456789abcdef';
let dir: string;
let queen: Queen;
let app: FastifyInstance;
let proxy: TcpProxy;
let proxyUrl: string;
const procs: Proc[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'myrmex-ant-network-'));
  queen = await Queen.open({ store: await openStore(join(dir, 'q.db')), ant: { capacity: 0 }, pollIntervalMs: 50, attemptLeaseMs: 1500 });
  await queen.start();
  const authenticateAnt = staticAntTokens(TOKEN);
  app = await createApi(queen, {
    extend: (scope) => antSocketRoutes(scope, { hub: queen.remoteAnts, authenticateAnt, drain: (id) => queen.drainAnt(id) }),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  proxy = new TcpProxy({ host: '127.0.0.1', port: typeof address === 'object' && address ? address.port : 0 });
  proxyUrl = await proxy.listen();
});

afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.kill9()));
  await proxy.close();
  await app.close();
  await queen.stop();
  rmSync(dir, { recursive: true, force: true });
});

const job = (id: string) => queen.getJob(id) as Promise<JobDetail>;
const ended = (id: string) => until(async () => ((await job(id)).state === 'COMPLETED' ? job(id) : undefined), `job ${id} to complete`);

async function antThroughProxy(): Promise<Proc> {
  const ant = await startAnt({ servers: [proxyUrl], token: TOKEN, id: 'ant-n', capacity: 1, stateDir: join(dir, 'state') });
  procs.push(ant);
  await ant.line(/^connected /);
  return ant;
}

async function gatedJob(effects: string, gate: string, jobType = 'gated'): Promise<string> {
  await queen.applyDefinition(`job_type: ${jobType}
tasks:
  - task_type: t
    retry: 2
    script: ['echo "{{.TaskRetry}}" >> ${effects}', 'while [ ! -e ${gate}-{{.TaskRetry}} ]; do sleep 0.05; done', 'echo "done {{.TaskRetry}}"']
`);
  return (await queen.submit({ jobType })).id;
}

describe('a remote ant behind a link that fails (TCP proxy on loopback)', () => {
  it('a cut shorter than the lease: the ant reconnects, its task runs on, its result is accepted, nothing runs twice', async () => {
    const ant = await antThroughProxy();
    const effects = join(dir, 'effects');
    const gate = join(dir, 'gate');
    const id = await gatedJob(effects, gate);
    await until(() => existsSync(effects), 'the task to start');
    proxy.cut();
    await until(() => ant.count(/^connected /) >= 2, 'the ant to reconnect');
    writeFileSync(`${gate}-0`, '');
    const detail = await ended(id);
    expect(detail.tasks[0]!.attempts).toHaveLength(1);
    expect(readFileSync(effects, 'utf8')).toBe('0\n');
    expect((await queen.logs(id)).map((l) => l.text)).toContain('done 0');
  });

  it('a black hole longer than the lease: the attempt is lost ("ant lost") and retried; the stale result it brings back is rejected', async () => {
    const ant = await antThroughProxy();
    const effects = join(dir, 'effects');
    const gate = join(dir, 'gate');
    const id = await gatedJob(effects, gate);
    await until(() => existsSync(effects), 'the task to start');
    proxy.pause();
    await until(
      async () => (await job(id)).tasks[0]!.attempts[0]!.state === 'FAILED',
      'the lease to expire and the reaper to end the attempt',
    );
    writeFileSync(`${gate}-0`, '');
    writeFileSync(`${gate}-1`, '');
    proxy.resume();
    const detail = await ended(id);
    const [lost, retried] = detail.tasks[0]!.attempts;
    expect(lost!.reason).toMatch(/^ant lost: ant-n/);
    expect(retried).toMatchObject({ state: 'COMPLETED', attempt: 2 });
    expect(detail.tasks[0]!.attempts).toHaveLength(2);
    void ant;
  });
});

describe('draining a remote ant (SIGTERM, as `myrmex ant` gets it)', () => {
  it('finishes what runs, takes nothing new, reports, and exits 0; after the grace period it cancels and reports', async () => {
    const ant = await startAnt({
      servers: [proxyUrl],
      token: TOKEN,
      id: 'ant-d',
      capacity: 2,
      stateDir: join(dir, 'state'),
      drainGraceMs: 60_000,
    });
    procs.push(ant);
    await ant.line(/^connected /);
    const effects = join(dir, 'effects');
    const gate = join(dir, 'gate');
    const id = await gatedJob(effects, gate);
    await until(() => existsSync(effects), 'the task to start');
    ant.child.kill('SIGTERM');
    await until(
      async () => ((await queen.ants()).find((a) => a.id === 'ant-d')?.draining ? true : undefined),
      'the queen to see it draining',
    );
    const waiting = await gatedJob(join(dir, 'effects-2'), join(dir, 'gate-2'), 'gated-2');
    writeFileSync(`${gate}-0`, '');
    await ended(id);
    expect(await ant.exited).toBe(0);
    // Nothing new went to the draining ant.
    expect((await job(waiting)).tasks[0]!.attempts).toHaveLength(0);

    const short = await startAnt({
      servers: [proxyUrl],
      token: TOKEN,
      id: 'ant-g',
      capacity: 1,
      stateDir: join(dir, 'state-g'),
      drainGraceMs: 300,
    });
    procs.push(short);
    await short.line(/^connected /);
    await until(
      async () => ((await job(waiting)).tasks[0]!.attempts.length > 0 ? true : undefined),
      'the waiting job to start on the new ant',
    );
    short.child.kill('SIGTERM');
    expect(await short.exited).toBe(0);
    // The ant reported before exiting; the queen's write of that report may land a moment after the exit.
    const cut = await until(async () => {
      const attempt = (await job(waiting)).tasks[0]!.attempts[0]!;
      return attempt.state === 'EXECUTING' ? undefined : attempt;
    }, 'the cancelled attempt to be reported');
    expect(cut.state).toBe('FAILED');
    expect(cut.reason ?? '').toMatch(/ant draining/);
  });
});

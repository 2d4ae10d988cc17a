import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JobDetail } from '@myrmex/orchestrator';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type Proc, type QueenProc, startAnt, startQueen, until, useFrontQueen } from './harness.js';
import { type Host, Lan, netnsGate } from './netns.js';

/**
 * Queens and an ant on hosts of their own (network namespaces on a bridge, each with its own
 * address), the ant's link taken down (`ip link set eth0 down`) while its task runs and brought
 * back. The queens share a SQLite file (one machine's disk; the network between them is what is
 * tested); the front queen in this process submits and reads.
 */
const net = await netnsGate();
const TOKEN = 'multi-host-test-token-0123456789ab';
/** Long enough that a loaded machine restores the link and reconnects before the lease lapses. */
const LEASE_MS = 4000;
const PORT = 7400;

net.describe('queens and a remote ant on hosts of their own (network namespaces)', () => {
  const fx = useFrontQueen('myrmex-multi-host-');
  let lan: Lan;
  let queens: QueenProc[];
  let antHost: Host;
  let ant: Proc;

  beforeEach(async () => {
    lan = await Lan.open();
    const hosts = await Promise.all(['qa', 'qb', 'ant'].map((name) => lan.host(name)));
    antHost = hosts[2]!;
    // Warnings on stdout: the stale result's rejection is looked for there.
    queens = await Promise.all(
      hosts
        .slice(0, 2)
        .map((h) =>
          startQueen({ db: fx.db, tokens: TOKEN, leaseMs: LEASE_MS, host: h.address, port: PORT }, h.ns, { MYRMEX_LOG_LEVEL: 'warn' }),
        ),
    );
    fx.procs.push(...queens);
    ant = await startAnt(
      {
        servers: queens.map((q) => q.url),
        token: TOKEN,
        id: 'ant-far',
        capacity: 1,
        stateDir: join(fx.dir, 'ant-state'),
        backoff: { baseMs: 50, capMs: 500 },
      },
      antHost.ns,
      { MYRMEX_LOG_LEVEL: 'warn' },
    );
    fx.procs.push(ant);
    await ant.line(/^connected /, 120_000);
  }, 240_000);

  // Runs before the front queen's teardown (hooks unwind in reverse): a process outlives the deletion
  // of its namespace, so the processes go first.
  afterEach(async () => {
    await Promise.all(fx.procs.splice(0).map((p) => p.kill9()));
    await lan.close();
  });

  const job = (id: string) => fx.front.getJob(id) as Promise<JobDetail>;

  async function gatedJob(): Promise<{ id: string; effects: string; gate: string }> {
    const effects = join(fx.dir, 'effects');
    const gate = join(fx.dir, 'gate');
    await fx.front.applyDefinition(`job_type: far
tasks:
  - task_type: t
    retry: 2
    script: ['echo "{{.TaskRetry}}" >> ${effects}', 'while [ ! -e ${gate}-{{.TaskRetry}} ]; do sleep 0.05; done', 'echo "done {{.TaskRetry}}"']
`);
    const { id } = await fx.front.submit({ jobType: 'far' });
    await until(() => existsSync(effects), 'the task to start on the far ant', 60_000);
    return { id, effects, gate };
  }

  it('the link is down until the ant notices, then back: the task ran on, the ant reconnects (to either queen) and reports once', async () => {
    const { id, effects, gate } = await gatedJob();
    await antHost.cut();
    await ant.line(/^disconnected$/, 60_000);
    await antHost.restore();
    await until(() => ant.count(/^connected /) >= 2, 'the ant to reconnect');
    // Still its one attempt, never re-queued.
    expect((await job(id)).tasks[0]!.attempts).toEqual([expect.objectContaining({ attempt: 1, state: 'EXECUTING', antId: 'ant-far' })]);
    writeFileSync(`${gate}-0`, '');
    const detail = await fx.finished(id);
    expect(detail.state).toBe('COMPLETED');
    expect(detail.tasks[0]!.attempts).toHaveLength(1);
    expect(readFileSync(effects, 'utf8')).toBe('0\n');
    expect((await fx.front.logs(id)).map((l) => l.text)).toContain('done 0');
  }, 240_000);

  it('the link is down past the lease: the attempt is re-queued as "ant lost", the result the ant brings back is rejected by its fencing token and logged', async () => {
    const { id, effects, gate } = await gatedJob();
    await antHost.cut();
    const lost = await until(async () => {
      const attempt = (await job(id)).tasks[0]!.attempts[0]!;
      return attempt.state === 'EXECUTING' ? undefined : attempt;
    }, 'the lease to lapse and a queen to end the attempt');
    expect(lost).toMatchObject({ state: 'FAILED', reason: expect.stringMatching(/^ant lost: ant-far/) });
    // The task finishes while its ant is cut off; the retry can finish too once it gets there.
    writeFileSync(`${gate}-0`, '');
    writeFileSync(`${gate}-1`, '');
    await antHost.restore();
    const detail = await fx.finished(id);
    expect(detail.state).toBe('COMPLETED');
    const [first, retried] = detail.tasks[0]!.attempts;
    expect(first).toMatchObject({ state: 'FAILED', reason: expect.stringMatching(/^ant lost/) });
    expect(retried).toMatchObject({ state: 'COMPLETED', attempt: 2 });
    expect(detail.tasks[0]!.attempts).toHaveLength(2);
    await ant.line(/the queen rejected this result: the attempt was no longer current/);
    await until(() => queens.some((q) => q.count(/rejected a (stale attempt )?result/) > 0) || undefined, 'a queen to log the rejection');
    expect(readFileSync(effects, 'utf8')).toBe('0\n1\n');
  }, 240_000);
});

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isTerminalJob, type JobDetail, PostgresStore, Queen } from '@myrmex/orchestrator';
import { postgres } from '@myrmex/test-utils';
import { expect, it } from 'vitest';
import { JOIN_KEY } from '../../engine/definitions.js';
import { type Proc, type QueenProc, startAnt, startQueen, until } from './harness.js';
import { TcpProxy } from './tcp-proxy.js';

const gate = await postgres();
const TOKEN = 'postgres-ants-token-0123456789abcdef';
/** Sized for CI; MYRMEX_ANT_CHAOS_JOBS=2000 MYRMEX_ANT_CHAOS_SECONDS=60 runs the issue's full version. */
const JOBS = Number(process.env.MYRMEX_ANT_CHAOS_JOBS ?? 20);
const CHAOS_MS = Number(process.env.MYRMEX_ANT_CHAOS_SECONDS ?? 6) * 1000;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

gate.describe('remote ants on PostgreSQL with queens in separate processes', () => {
  it('a cancel sent to another queen reaches the ant through the change feed and kills its task', async () => {
    const db = await gate.freshDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'myrmex-ants-pg-'));
    const procs: Proc[] = [];
    const front = await Queen.open({ store: PostgresStore.open({ url: db.url }), ant: { capacity: 0 }, pollIntervalMs: 50 });
    try {
      await front.start();
      const q = await startQueen({ db: db.url, tokens: TOKEN, leaseMs: 3000 });
      procs.push(q);
      const ant = await startAnt({ servers: [q.url], token: TOKEN, id: 'ant-c', stateDir: join(dir, 'state') });
      procs.push(ant);
      await ant.line(/^connected /);
      const pidFile = join(dir, 'pid');
      await front.applyDefinition(
        `job_type: cancel-me\ntasks:\n  - task_type: t\n    script: ['sleep 300 & echo $! > ${pidFile}; wait']\n`,
      );
      const { id } = await front.submit({ jobType: 'cancel-me' });
      const pid = await until(
        () => (existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) || undefined : undefined),
        'the task to start',
      );
      await front.cancel(id);
      await until(() => !alive(pid), "the task's process to be killed on the ant");
      const job = (await front.getJob(id)) as JobDetail;
      expect(job.state).toBe('CANCELLED');
      // Every queen sees the ant, whichever it is connected to.
      expect(await front.ants()).toEqual([expect.objectContaining({ id: 'ant-c', connected: true, queen: q.id, remote: true })]);
    } finally {
      await Promise.all(procs.map((p) => p.kill9()));
      await front.stop();
      await db.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('chaos: 3 queens and 4 ants, one killed with -9 or the links of an ant cut every second or so while DAG jobs with joins run; every job ends exactly once', async () => {
    const db = await gate.freshDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'myrmex-ants-chaos-'));
    const effects = join(dir, 'effects');
    const front = await Queen.open({ store: PostgresStore.open({ url: db.url }), ant: { capacity: 0 }, pollIntervalMs: 100 });
    const queens: QueenProc[] = [];
    const ants: Proc[] = [];
    const proxies: TcpProxy[] = [];
    try {
      await front.start();
      const task = (name: string, after?: string[]) =>
        `  - task_type: ${name}\n    retry: 6\n${after ? `    ${JOIN_KEY}: [${after.join(', ')}]\n` : ''}    script: ['echo "{{.JobID}} ${name} {{.TaskRetry}}" >> ${effects}', 'sleep 0.2']\n`;
      await front.applyDefinition(`job_type: chaos\ntasks:\n${task('a')}${task('b', ['a'])}${task('c', ['a'])}${task('d', ['b', 'c'])}`);
      // Fixed ports, so a restarted queen answers at the URL the ants know.
      const ports = [0, 1, 2].map((i) => 20_000 + ((process.pid * 3 + i) % 20_000));
      // A queen that dies while starting (its database connection cut under it) is one more failure: start another.
      const startQ = async (i: number): Promise<QueenProc> => {
        for (let attempt = 1; ; attempt++) {
          try {
            return await startQueen({ db: db.url, tokens: TOKEN, leaseMs: 2000, port: ports[i]! });
          } catch (error) {
            if (attempt === 3) throw error;
          }
        }
      };
      queens.push(...(await Promise.all([0, 1, 2].map(startQ))));
      // Each ant reaches each queen through its own proxy, so an ant's links can be cut.
      const links = await Promise.all(
        [0, 1, 2, 3].map(() =>
          Promise.all(
            ports.map(async (port) => {
              const proxy = new TcpProxy({ host: '127.0.0.1', port });
              proxies.push(proxy);
              return { proxy, url: await proxy.listen() };
            }),
          ),
        ),
      );
      const startA = (i: number) =>
        startAnt({
          servers: [...links[i]!.slice(i % 3), ...links[i]!.slice(0, i % 3)].map((link) => link.url),
          token: TOKEN,
          id: `ant-${i}`,
          capacity: 3,
          stateDir: join(dir, `ant-${i}`),
        });
      ants.push(...(await Promise.all([0, 1, 2, 3].map(startA))));
      await Promise.all(ants.map((a) => a.line(/^connected /, 150_000)));
      const ids = (await front.submitMany(Array.from({ length: JOBS }, () => ({ jobType: 'chaos' })))).map((j) => j.id);

      const chaosEnds = Date.now() + CHAOS_MS;
      let kills = 0;
      for (let round = 0; Date.now() < chaosEnds; round++) {
        await new Promise((resolve) => setTimeout(resolve, 700 + Math.floor(Math.random() * 600)));
        if (round % 3 === 0) {
          const i = Math.floor(Math.random() * queens.length);
          await queens[i]!.kill9();
          queens[i] = await startQ(i);
        } else if (round % 3 === 1) {
          const i = Math.floor(Math.random() * ants.length);
          await ants[i]!.kill9();
          ants[i] = await startA(i);
        } else {
          // Cut every link of one ant: it reconnects and resumes (or, if away past the lease, loses its attempts).
          for (const link of links[Math.floor(Math.random() * links.length)]!) link.proxy.cut();
        }
        kills++;
      }

      let jobs: JobDetail[] = [];
      await until(
        async () => {
          jobs = (await Promise.all(ids.map((id) => front.getJob(id)))) as JobDetail[];
          return jobs.every((job) => isTerminalJob(job.state)) || undefined;
        },
        `every job to end (${kills} kills)`,
        120_000,
      );
      const lines = readFileSync(effects, 'utf8').split('\n').filter(Boolean);
      // No attempt ran twice: each (job, task, attempt) token appears at most once.
      expect(new Set(lines).size).toBe(lines.length);
      for (const job of jobs) {
        expect(job.state).toBe('COMPLETED');
        expect(job.timeline.filter((e) => e.taskType === 'd' && e.from === 'PENDING' && e.to === 'READY')).toHaveLength(1);
        for (const t of job.tasks) {
          const accepted = t.attempts.filter((a) => a.state === 'COMPLETED');
          expect(accepted).toHaveLength(1);
          expect(lines.filter((l) => l === `${job.id} ${t.taskType} ${accepted[0]!.attempt - 1}`)).toHaveLength(1);
          for (const a of t.attempts.filter((x) => x.state === 'FAILED')) expect(a.reason).toMatch(/^(ant lost|queen restarted)/);
        }
      }
    } finally {
      await Promise.all([...queens, ...ants].map((p) => p.kill9()));
      await Promise.all(proxies.map((p) => p.close()));
      await front.stop();
      await db.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});

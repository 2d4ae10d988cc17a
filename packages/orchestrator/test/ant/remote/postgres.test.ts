import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ANT_SOCKET_PATH, type JobDetail, PostgresStore, Queen } from '@myrmex/orchestrator';
import { postgres } from '@myrmex/test-utils';
import { expect, it } from 'vitest';
import { type Proc, startAnt, startQueen, until } from './harness.js';
import { logBatch, RawAnt } from './raw-ant.js';

const gate = await postgres();
const TOKEN = 'postgres-ants-token-0123456789abcdef';

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

  it('a log batch whose ack was lost, sent again to another queen, is stored once (the database keeps the batch numbers)', async () => {
    const db = await gate.freshDatabase();
    const procs: Proc[] = [];
    const front = await Queen.open({ store: PostgresStore.open({ url: db.url }), ant: { capacity: 0 }, pollIntervalMs: 50 });
    const socket = async (url: string) => {
      const ant = await RawAnt.open(`${url.replace(/^http/, 'ws')}${ANT_SOCKET_PATH}`, TOKEN);
      if (typeof ant === 'number') throw new Error(`upgrade refused with ${ant}`);
      return ant;
    };
    try {
      await front.start();
      const [qa, qb] = await Promise.all([0, 1].map(() => startQueen({ db: db.url, tokens: TOKEN, leaseMs: 10_000 })));
      procs.push(qa!, qb!);
      const first = await socket(qa!.url);
      first.hello('ant-twice');
      await first.nth('welcome');
      await front.applyDefinition(`job_type: twice\ntasks:\n  - task_type: t\n    script: ['true']\n`);
      const { id } = await front.submit({ jobType: 'twice' });
      const assignmentId = ((await first.nth('assign')).assignment as { id: string }).id;
      first.send({ type: 'ack', assignmentId });
      const batch = (n: number) => logBatch(assignmentId, n);
      first.send(batch(0));
      first.send(batch(1));
      await first.nth('logs-ack', 2);
      // Both acks lost with the connection: the ant reconnects to the other queen and sends them again, then more.
      first.ws.terminate();
      await first.closed;
      const second = await socket(qb!.url);
      second.hello('ant-twice', { running: [assignmentId] });
      expect(await second.nth('welcome')).toMatchObject({ queen: qb!.id });
      second.send(batch(0));
      second.send(batch(1));
      second.send(batch(2));
      expect((await second.nth('logs-ack', 3)).batch).toBe(2);
      second.send({ type: 'result', assignmentId, result: { succeeded: true, exitCode: 0 }, outputs: {} });
      expect(await second.nth('result-ack')).toMatchObject({ assignmentId, accepted: true });
      const lines = (await front.logs(id)).map((l) => l.text).filter((t) => t.startsWith('line '));
      expect(lines).toEqual(['line 0', 'line 1', 'line 2']);
      second.ws.close();
    } finally {
      await Promise.all(procs.map((p) => p.kill9()));
      await front.stop();
      await db.dispose();
    }
  });
});

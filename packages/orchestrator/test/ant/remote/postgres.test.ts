import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type JobDetail, PostgresStore, Queen } from '@myrmex/orchestrator';
import { postgres } from '@myrmex/test-utils';
import { expect, it } from 'vitest';
import { type Proc, startAnt, startQueen, until } from './harness.js';

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
});

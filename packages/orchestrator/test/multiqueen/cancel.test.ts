import { PostgresStore, Queen } from '@myrmex/orchestrator';
import { postgres } from '@myrmex/test-utils';
import { expect, it } from 'vitest';
import { isAlive, waitUntil } from '../executors/processes.js';
import { finished, until } from '../queen/helpers.js';

const gate = await postgres();

gate.describe('cancel across queens', () => {
  it('a cancel received by one queen stops a task running under another, through the database', async () => {
    const db = await gate.freshDatabase();
    const runner = await Queen.open({ store: PostgresStore.open({ url: db.url }), ant: { capacity: 1 }, pollIntervalMs: 50 });
    const front = await Queen.open({ store: PostgresStore.open({ url: db.url }), ant: { capacity: 0 } });
    try {
      await runner.start();
      await front.start();
      await front.applyDefinition('job_type: long\ntasks:\n  - task_type: wait\n    script: ["echo $$", "sleep 30"]\n');
      const job = await front.submit({ jobType: 'long' });
      await until(async () => ((await front.logs(job.id)).length > 0 ? true : undefined), 20_000);
      const pid = Number((await front.logs(job.id))[0]!.text);
      expect(isAlive(pid)).toBe(true);
      await front.cancel(job.id, 'stop it');
      const done = await finished(front, job.id);
      expect(done.state).toBe('CANCELLED');
      expect(await waitUntil(() => !isAlive(pid))).toBe(true);
      expect(done.tasks[0]!.attempts[0]).toMatchObject({ state: 'CANCELLED' });
    } finally {
      await front.stop();
      await runner.stop();
      await db.dispose();
    }
  }, 60_000);
});

import { postgres } from '@myrmex/test-utils';
import pg from 'pg';
import { expect, it } from 'vitest';
import { PostgresStore } from '../../src/index.js';

/**
 * A bulk submit changes the queue's mix of states faster than autovacuum re-analyzes it; the store
 * analyzes the queue's tables itself once a tenth of them (at least 1,000 rows) changed, so the
 * scheduler's queries are planned from statistics that know the queue is long (issue 11).
 */
const gate = await postgres();

gate.describe('queue statistics on PostgreSQL', () => {
  it('analyzes jobs and tasks soon after a bulk submit, and leaves a table that barely changed alone', async () => {
    const db = await gate.freshDatabase();
    const store = PostgresStore.open({ url: db.url });
    const client = new pg.Client({ connectionString: db.url });
    try {
      await store.opened();
      await client.connect();
      const at = new Date();
      const jobs = Array.from({ length: 1500 }, (_, i) => ({
        id: `stats-${i}`,
        jobType: 'stats',
        version: 1,
        priority: 0,
        params: {},
        submittedAt: at,
        scheduledAt: at,
        taskTypes: ['only'],
      }));
      await store.createJobs(jobs);
      const analyzed = async () =>
        (
          await client.query<{ relname: string; last_analyze: Date | null }>(
            `SELECT relname, last_analyze FROM pg_stat_user_tables WHERE relname IN ('jobs', 'tasks', 'attempts') ORDER BY relname`,
          )
        ).rows;
      // Waits for the condition (the check runs every second); the test's timeout bounds it.
      for (;;) {
        const rows = await analyzed();
        if (rows.filter((r) => r.relname !== 'attempts').every((r) => r.last_analyze !== null)) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect((await analyzed()).find((r) => r.relname === 'attempts')?.last_analyze).toBeNull();
    } finally {
      await client.end();
      await store.close();
      await db.dispose();
    }
  }, 30_000);
});

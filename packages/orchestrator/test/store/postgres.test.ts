import { type JobStore, MIGRATION_NAMES, PostgresStore } from '@myrmex/orchestrator';
import { postgres } from '@myrmex/test-utils';
import pg from 'pg';
import { expect, it } from 'vitest';
import { describeStoreContract } from './contract.js';

const gate = await postgres();

/** A store on a fresh database, dropped when the store closes. */
async function fresh(): Promise<JobStore> {
  const db = await gate.freshDatabase();
  const store = PostgresStore.open({ url: db.url, poolSize: 4 });
  await store.opened();
  const close = store.close.bind(store);
  store.close = async () => {
    await close();
    await db.dispose();
  };
  return store;
}

if (gate.availability.available) describeStoreContract('PostgreSQL', fresh);

gate.describe('PostgresStore', () => {
  it('announces every committed change to every store on the database (LISTEN/NOTIFY), its own included', async () => {
    const db = await gate.freshDatabase();
    const [writer, reader] = [PostgresStore.open({ url: db.url }), PostgresStore.open({ url: db.url })];
    try {
      await Promise.all([writer.opened(), reader.opened()]);
      const seen: string[] = [];
      reader.onChange((change) => seen.push(change.jobId));
      // The listener connects in the background: resubmit until it is listening.
      const deadline = Date.now() + 10_000;
      for (let i = 0; !seen.includes(`j${i - 1}`); i++) {
        if (Date.now() > deadline) throw new Error('no notification arrived');
        await writer.createJob({
          id: `j${i}`,
          jobType: 't',
          version: 1,
          priority: 1,
          params: {},
          submittedAt: new Date(),
          scheduledAt: new Date(),
          taskTypes: ['a'],
        });
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(seen.length).toBeGreaterThan(0);
    } finally {
      await Promise.all([writer.close(), reader.close()]);
      await db.dispose();
    }
  });

  it('applyMany refuses a job another transaction holds instead of waiting for it, and writes the others', async () => {
    const db = await gate.freshDatabase();
    const store = PostgresStore.open({ url: db.url, poolSize: 2 });
    const other = new pg.Client({ connectionString: db.url });
    try {
      await store.opened();
      const job = (id: string) => ({
        id,
        jobType: 't',
        version: 1,
        priority: 1,
        params: {},
        submittedAt: new Date(),
        scheduledAt: new Date(),
        taskTypes: ['a'],
      });
      await store.createJobs([job('held'), job('free')]);
      await other.connect();
      // Another queen in the middle of writing one of them: its row is locked until that transaction ends.
      await other.query('BEGIN');
      await other.query(`SELECT id FROM jobs WHERE id = 'held' FOR UPDATE`);
      const admit = { at: new Date(), job: { state: 'READY' as const, reason: 'admitted' } };
      const results = await store.applyMany([
        { jobId: 'held', changes: admit },
        { jobId: 'free', changes: admit },
      ]);
      expect(results.map((events) => events?.map((e) => e.to))).toEqual([undefined, ['READY']]);
      await other.query('COMMIT');
      expect((await store.job('held'))?.state).toBe('PENDING');
    } finally {
      await other.end().catch(() => undefined);
      await store.close();
      await db.dispose();
    }
  });

  it('migrates once when several queens open a new database at the same moment', async () => {
    const db = await gate.freshDatabase();
    const stores = Array.from({ length: 5 }, () => PostgresStore.open({ url: db.url, poolSize: 2 }));
    try {
      await Promise.all(stores.map((s) => s.opened()));
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      const { rows } = await client.query('SELECT name FROM myrmex_migration');
      await client.end();
      // Each migration once, in order, however many queens raced to run it.
      expect(rows.map((r) => r.name)).toEqual([...MIGRATION_NAMES]);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      await db.dispose();
    }
  });
});

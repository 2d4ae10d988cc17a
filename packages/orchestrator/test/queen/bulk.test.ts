import { type JobStore, openStore, PostgresStore, Queen } from '@myrmex/orchestrator';
import { postgres } from '@myrmex/test-utils';
import { describe, expect, it } from 'vitest';
import { finished, source, startQueen, tempDb, testExecutor } from './helpers.js';

const gate = await postgres();

describe('bulk submit', () => {
  it('submits many requests in one transaction, in order, and runs them', async () => {
    const queen = await startQueen({ ant: { capacity: 8 } });
    await queen.applyDefinition('job_type: one\ntasks:\n  - task_type: a\n    script: ["true"]\n');
    const jobs = await queen.submitMany(Array.from({ length: 1200 }, (_, n) => ({ jobType: 'one', params: { n } })));
    expect(jobs.map((job) => job.params.n)).toEqual(Array.from({ length: 1200 }, (_, n) => n));
    expect((await queen.listJobs({ limit: 1, count: 'exact' })).total).toBe(1200);
    // The first ones run (priority, then submission order); the rest follow as the ant frees slots.
    expect((await finished(queen, jobs[0]!.id)).state).toBe('COMPLETED');
    expect((await finished(queen, jobs[9]!.id)).state).toBe('COMPLETED');
  });

  it('creates nothing when one request is bad, and names it by index', async () => {
    const queen = await startQueen({ ant: { capacity: 1 } });
    await queen.applyDefinition('job_type: one\ntasks:\n  - task_type: a\n    script: ["true"]\n');
    await expect(queen.submitMany([{ jobType: 'one' }, { jobType: 'one', priority: 500 }])).rejects.toMatchObject({
      code: 'invalid',
      field: 'requests[1].priority',
      message: expect.stringMatching(/^requests\[1\]\.priority: priority must be an integer from 0 to 100/),
    });
    await expect(queen.submitMany([{ jobType: 'one' }, { jobType: 'nope' }])).rejects.toMatchObject({ field: 'requests[1].jobType' });
    expect((await queen.listJobs({ count: 'exact' })).total).toBe(0);
    expect(await queen.submitMany([])).toEqual([]);
  });
});

const stores: [string, () => Promise<{ store: JobStore; dispose: () => Promise<void> }>][] = [
  ['SQLite', async () => ({ store: await openStore(tempDb()), dispose: async () => {} })],
];
if (gate.availability.available) {
  stores.push([
    'PostgreSQL',
    async () => {
      const db = await gate.freshDatabase();
      return { store: PostgresStore.open({ url: db.url }), dispose: () => db.dispose() };
    },
  ]);
}

for (const [name, open] of stores) {
  describe(`bulk submit of 1,000 on ${name}`, () => {
    it('writes every job with its tasks and its PENDING timeline row, or none when a request is bad (named by its index)', async () => {
      const { store, dispose } = await open();
      const queen = await Queen.open({ store, ant: { capacity: 0 }, executors: [testExecutor()] });
      try {
        await queen.applyDefinition(
          source('pair', [
            { task_type: 'a', script: ['true'] },
            { task_type: 'b', script: ['true'], needs: ['a'] },
          ]),
        );
        const requests = Array.from({ length: 1000 }, (_, n) => ({ jobType: 'pair', params: { n } }));
        await expect(queen.submitMany(requests.map((r, n) => (n === 999 ? { ...r, priority: 101 } : r)))).rejects.toMatchObject({
          code: 'invalid',
          field: 'requests[999].priority',
        });
        await expect(queen.submitMany(requests.map((r, n) => (n === 500 ? { ...r, jobType: 'nope' } : r)))).rejects.toMatchObject({
          code: 'not_found',
          field: 'requests[500].jobType',
        });
        expect((await queen.listJobs({ count: 'exact' })).total).toBe(0);
        const jobs = await queen.submitMany(requests);
        expect(jobs.map((job) => job.params.n)).toEqual(requests.map((r) => r.params.n));
        expect((await queen.listJobs({ count: 'exact' })).total).toBe(1000);
        const details = await Promise.all(jobs.map((job) => queen.getJob(job.id)));
        for (const [n, detail] of details.entries()) {
          expect(detail).toMatchObject({ id: jobs[n]!.id, state: 'PENDING', params: { n }, submittedAt: jobs[n]!.submittedAt });
          expect(detail!.tasks.map((t) => [t.taskType, t.state])).toEqual([
            ['a', 'PENDING'],
            ['b', 'PENDING'],
          ]);
          expect(detail!.timeline).toMatchObject([{ jobId: jobs[n]!.id, to: 'PENDING', reason: 'submitted' }]);
        }
      } finally {
        await queen.stop();
        await dispose();
      }
    }, 60_000);
  });
}

import { describe, expect, it } from 'vitest';
import { finished, startQueen } from './helpers.js';

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

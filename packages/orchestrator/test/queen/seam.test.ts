import { priorityPolicy, type SchedulingPolicy } from '@myrmex/orchestrator';
import { describe, expect, it } from 'vitest';
import { startQueen, until } from './helpers.js';

describe('the scheduling seam is bounded', () => {
  it('a policy that admits nothing, with more than a page of jobs due, cannot freeze the queen', async () => {
    let passes = 0;
    const stubborn: SchedulingPolicy = {
      ...priorityPolicy,
      name: 'admits-nothing',
      orderJobs: () => {
        passes++;
        return [];
      },
    };
    const queen = await startQueen({ ant: { capacity: 1 }, policy: stubborn, pollIntervalMs: 50 });
    await queen.applyDefinition('job_type: held\ntasks:\n  - task_type: a\n    script: ["true"]\n');
    for (let i = 0; i < 520; i++) await queen.submit({ jobType: 'held' });
    // The queen still answers between passes, and passes keep coming on the timer, not in a tight loop.
    const seen = passes;
    const listed = await queen.listJobs({ state: 'PENDING', limit: 1, count: 'exact' });
    expect(listed.total).toBe(520);
    expect(await until(async () => passes > seen + 2)).toBe(true);
    const started = Date.now();
    const health = await queen.health();
    expect(health.ok).toBe(true);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

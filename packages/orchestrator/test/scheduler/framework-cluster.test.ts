import type { RunningAttempt } from '@myrmex/scheduling';
import { parseProfile } from '@myrmex/scheduling';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseJobDefinition } from '../../src/definition/index.js';
import type { ClusterView } from '../../src/scheduler/index.js';
import { frameworkPolicy } from '../../src/scheduler/index.js';
import type { JobRow } from '../../src/store/store.js';

// Admission depends on what runs: a tenant with two running attempts is held, and fair share orders by usage.
const PROFILE = 'name: shares\nplugins:\n  - concurrency-limits: { tenant: 2 }\n  - fair-share: { policy: drf }\n  - fcfs\n';
const definition = parseJobDefinition('job_type: work\ntasks:\n  - task_type: run\n    script: [run]\n    resources: { cpu: 1 }\n');
const TENANTS = ['acme', 'globex', 'initech'];

/** Attempt `n`: the same fields whenever it appears (an attempt's tenant, ant and resources never change). */
const attempt = (n: number, terminating: boolean): RunningAttempt => ({
  id: `r${n}/run/1`,
  jobId: `r${n}`,
  taskId: 'run',
  antId: `ant-${n % 3}`,
  jobType: 'work',
  tenant: TENANTS[(n * 7) % 3]!,
  queue: n % 2 === 0 ? 'a' : 'b',
  priority: 50,
  resources: { cpu: 1 + (n % 3), slots: 1 },
  startedAt: n,
  ...(terminating && { terminating }),
});

const view = (running: RunningAttempt[]): ClusterView => ({
  now: 1_000,
  running,
  history: {},
  usage: {},
  definitions: new Map([['work@1', definition]]),
  tenants: new Map(),
});

const jobs: JobRow[] = TENANTS.flatMap(
  (tenant, t) =>
    [0, 1, 2].map((i) => ({
      id: `p${t}${i}`,
      jobType: 'work',
      version: 1,
      state: 'PENDING' as const,
      priority: 50,
      params: { tenant },
      submittedAt: new Date(t * 3 + i),
      scheduledAt: new Date(0),
      retry: 0,
      seq: t * 3 + i,
      revision: 0,
    })) as unknown as JobRow[],
);

describe('frameworkPolicy keeps its Cluster between passes (issue 13)', () => {
  it('orders due jobs as a policy that sees the same running attempts for the first time', () => {
    const step = fc.array(fc.tuple(fc.integer({ min: 0, max: 11 }), fc.boolean()), { maxLength: 12 });
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 6 }), (steps) => {
        const kept = frameworkPolicy(parseProfile(PROFILE));
        for (const running of steps) {
          // One attempt per id in a view; its resources never change under the same id.
          const byId = new Map<number, RunningAttempt>();
          for (const [n, terminating] of running) byId.set(n, attempt(n, terminating));
          const now = view([...byId.values()]);
          kept.observe!(now);
          const fresh = frameworkPolicy(parseProfile(PROFILE));
          fresh.observe!(now);
          expect(kept.orderJobs(jobs, 1_000).map((j) => j.id)).toEqual(fresh.orderJobs(jobs, 1_000).map((j) => j.id));
        }
      }),
      { numRuns: 60 },
    );
  });
});

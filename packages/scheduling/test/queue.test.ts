import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type PendingJob, PendingQueue, parseProfile, schedulePass } from '../src/index.js';
import { ant, job, running } from './support.js';

const PROFILES = [
  'name: fcfs\nplugins: [fcfs]\n',
  'name: fair\nplugins:\n  - fair-share: { policy: drf }\n  - priority\n  - resources: { fit: best-fit }\n',
  'name: aging\nplugins:\n  - priority: { aging: { interval: 10, maxWait: 50 } }\n',
  'name: levels\nplugins:\n  - multilevel: { by: tag, order: [urgent, batch] }\n  - fair-share: { by: user, policy: maxmin }\n  - sjf\n',
].map((text) => parseProfile(text));

const tenants = ['acme', 'globex', 'initech'];
const arbitraryJob = fc
  .record({
    cpu: fc.constantFrom(1, 2, 3, 5),
    tenant: fc.constantFrom(...tenants),
    user: fc.constantFrom('ann', 'bob'),
    priority: fc.integer({ min: 0, max: 3 }),
    tag: fc.constantFrom('urgent', 'batch'),
    runtime: fc.integer({ min: 1, max: 100 }),
  })
  .map((r) => r);

type JobSpec = typeof arbitraryJob extends fc.Arbitrary<infer T> ? T : never;
type Op = { kind: 'add'; spec: JobSpec } | { kind: 'remove'; pick: number } | { kind: 'pass'; advance: number };
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: arbitraryJob.map((spec) => ({ kind: 'add' as const, spec })) },
  { weight: 1, arbitrary: fc.nat().map((pick) => ({ kind: 'remove' as const, pick })) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 30 }).map((advance) => ({ kind: 'pass' as const, advance })) },
);

describe('PendingQueue', () => {
  it('law: a pass over the queue decides exactly as a pass over the same jobs in a snapshot, pass after pass', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...PROFILES),
        fc.array(op, { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 4 }),
        (profile, ops, budget) => {
          const queue = new PendingQueue(profile.plugins);
          const ants = [ant('x', { cpu: 4 }), ant('y', { cpu: 6 })];
          const busy = [
            running('r1', 'x', { tenant: 'acme', resources: { cpu: 2 } }),
            running('r2', 'y', { tenant: 'globex', resources: { cpu: 3 } }),
          ];
          let now = 0;
          let seq = 0;
          for (const step of ops) {
            if (step.kind === 'add') {
              const n = seq++;
              queue.add(
                job(`j${n}`, {
                  cpu: step.spec.cpu,
                  tenant: step.spec.tenant,
                  user: step.spec.user,
                  priority: step.spec.priority,
                  tags: [step.spec.tag],
                  estimatedRuntime: step.spec.runtime,
                  // Distinct submission times: ties between lanes are broken the same way by both.
                  submittedAt: now * 1000 + n,
                }),
              );
            } else if (step.kind === 'remove') {
              const ids = [...queue.values()].map((j) => j.id);
              if (ids.length > 0) expect(queue.remove(ids[step.pick % ids.length]!)).toBe(true);
            } else {
              now += step.advance;
              const snapshot = { now, pending: [...queue.values()], running: busy, ants };
              const options = { ...profile.options, budget: { maxDecisions: budget * 2 } };
              const expected = schedulePass(snapshot, profile.plugins, options);
              const actual = schedulePass({ ...snapshot, pending: [] }, profile.plugins, { ...options, queue });
              expect(actual.decisions).toEqual(expected.decisions);
              expect(actual.unexamined).toBe(expected.unexamined);
              // The pass put back what it took: membership is the caller's.
              expect(queue.size).toBe(snapshot.pending.length);
              for (const d of actual.decisions) if (d.kind === 'admit') queue.remove(d.jobId);
            }
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('law: SJF and least laxity on past runtimes, kept in a queue, decide as from a snapshot while history moves', () => {
    const profiles = [parseProfile('name: sjf\nplugins: [sjf]\n'), parseProfile('name: laxity\nplugins:\n  - edf: { by: laxity }\n')];
    type Step =
      | { kind: 'add'; type: string; runtime?: number; deadline: number }
      | { kind: 'finish'; type: string; runtime: number }
      | { kind: 'pass' };
    const step: fc.Arbitrary<Step> = fc.oneof(
      {
        weight: 4,
        arbitrary: fc.record(
          {
            kind: fc.constant('add' as const),
            type: fc.constantFrom('etl', 'ml', 'report'),
            runtime: fc.integer({ min: 1, max: 50 }),
            deadline: fc.integer({ min: 0, max: 200 }),
          },
          { requiredKeys: ['kind', 'type', 'deadline'] },
        ),
      },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant('finish' as const),
          type: fc.constantFrom('etl', 'ml'),
          runtime: fc.integer({ min: 1, max: 50 }),
        }),
      },
      { weight: 2, arbitrary: fc.constant({ kind: 'pass' as const }) },
    );
    fc.assert(
      fc.property(fc.constantFrom(...profiles), fc.array(step, { minLength: 1, maxLength: 60 }), (profile, steps) => {
        const queue = new PendingQueue(profile.plugins);
        const history: Record<string, number[]> = {};
        let now = 0;
        let seq = 0;
        for (const s of steps) {
          if (s.kind === 'add') {
            const n = seq++;
            const extra = {
              jobType: s.type,
              deadline: s.deadline,
              submittedAt: n,
              ...(s.runtime !== undefined && { estimatedRuntime: s.runtime }),
            };
            queue.add(job(`j${n}`, extra));
          } else if (s.kind === 'finish') history[s.type] = [...(history[s.type] ?? []), s.runtime];
          else {
            now++;
            const snapshot = {
              now,
              pending: [...queue.values()],
              running: [],
              ants: [ant('x', { cpu: 2 })],
              history: structuredClone(history),
            };
            const options = { ...profile.options, budget: { maxDecisions: 3 } };
            const expected = schedulePass(snapshot, profile.plugins, options);
            const actual = schedulePass({ ...snapshot, pending: [] }, profile.plugins, { ...options, queue });
            expect(actual.decisions).toEqual(expected.decisions);
            for (const d of actual.decisions) if (d.kind === 'admit') queue.remove(d.jobId);
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('replaces a job added again under its id, and forgets removed requests in its least request', () => {
    const [profile] = PROFILES;
    const queue = new PendingQueue(profile!.plugins);
    queue.add(job('a', { cpu: 1 }));
    queue.add(job('b', { cpu: 4 }));
    expect(queue.leastRequest()).toEqual({ cpu: 1 });
    queue.add(job('a', { cpu: 3, priority: 2 }));
    expect(queue.size).toBe(2);
    expect(queue.get('a')?.priority).toBe(2);
    expect(queue.leastRequest()).toEqual({ cpu: 3 });
    expect(queue.remove('a')).toBe(true);
    expect(queue.remove('a')).toBe(false);
    expect(queue.leastRequest()).toEqual({ cpu: 4 });
  });

  it('refuses a queue built for another profile', () => {
    const queue = new PendingQueue(PROFILES[0]!.plugins);
    expect(() => schedulePass({ now: 0, pending: [], running: [], ants: [] }, PROFILES[1]!.plugins, { queue })).toThrow(/other plugins/);
  });

  it('gets back what a pass took when a plugin throws', () => {
    const queue = new PendingQueue(PROFILES[0]!.plugins);
    const jobs: PendingJob[] = [job('a', { submittedAt: 1 }), job('b', { submittedAt: 2 })];
    for (const j of jobs) queue.add(j);
    const broken = {
      ...PROFILES[0]!.plugins[0]!,
      admit: () => {
        throw new Error('boom');
      },
    };
    const plugins = [broken];
    const other = new PendingQueue(plugins);
    for (const j of jobs) other.add(j);
    expect(() => schedulePass({ now: 0, pending: [], running: [], ants: [ant('x')] }, plugins, { queue: other })).toThrow('boom');
    expect(other.size).toBe(2);
    const { decisions } = schedulePass({ now: 0, pending: [], running: [], ants: [ant('x')] }, PROFILES[0]!.plugins, { queue });
    expect(decisions.filter((d) => d.kind === 'admit').map((d) => d.jobId)).toEqual(['a', 'b']);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Ant, Cluster, type PendingJob, parseProfile, type RunningAttempt, schedulePass } from '../src/index.js';
import { ant, job, running } from './support.js';

// Profiles that read every part of the cluster: ant state (fit, victims), each ledger kind (tenant, user, queue,
// type), distinct-job counts (concurrency limits), the running list (speculation) and overcommit.
const PROFILES = [
  'name: fcfs\nplugins: [fcfs, { resources: { fit: first-fit } }]\n',
  'name: fair\nplugins:\n  - fair-share: { policy: drf }\n  - priority\n  - resources: { fit: best-fit }\n  - gang\n',
  'name: users\nplugins:\n  - fair-share: { by: user, policy: maxmin }\n  - concurrency-limits: { tenant: 3, user: 2 }\n  - fcfs\n',
  'name: preempt\nplugins:\n  - priority\n  - resources: { fit: worst-fit }\n  - preemption: { grace: 10 }\n',
  'name: capacity\nplugins:\n  - capacity: { queues: { default: { guaranteed: { cpu: 3 } }, batch: { guaranteed: { cpu: 2 }, max: { cpu: 6 } } } }\n  - fcfs\n',
  'name: spec\nplugins: [fcfs, { resources: { fit: best-fit } }, { speculative: { minHistory: 1, percentile: 50 } }]\n',
  'name: burst\novercommit: { cpu: 1.5 }\nplugins: [sjf, { resources: { fit: best-fit } }]\n',
].map((text) => parseProfile(text));

const tenants = ['acme', 'globex', 'initech'];
// Fractions like 0.1 and 0.3 have no exact binary form: free capacity kept by additions and removals would drift
// from a fresh sum, so the cluster must recompute in start order to stay equal to the bit.
const amount = fc.constantFrom(0.1, 0.3, 0.5, 1, 2, 3);
const arbitraryAttempt = fc.record({
  ant: fc.integer({ min: 0, max: 4 }),
  cpu: amount,
  memory: fc.constantFrom(0, 1, 2.5),
  tenant: fc.constantFrom(...tenants),
  user: fc.constantFrom('ann', 'bob', undefined),
  queue: fc.constantFrom('default', 'batch'),
  priority: fc.integer({ min: 0, max: 3 }),
  age: fc.integer({ min: 0, max: 100 }),
});
const arbitraryPending = fc.record({
  cpu: amount,
  tenant: fc.constantFrom(...tenants),
  user: fc.constantFrom('ann', 'bob'),
  queue: fc.constantFrom('default', 'batch'),
  priority: fc.integer({ min: 0, max: 4 }),
  width: fc.integer({ min: 1, max: 3 }),
  qos: fc.constantFrom(undefined, 'guaranteed' as const, 'best-effort' as const),
});

type Value<A> = A extends fc.Arbitrary<infer T> ? T : never;
type Op =
  | { kind: 'start'; spec: Value<typeof arbitraryAttempt> }
  | { kind: 'end'; pick: number }
  | { kind: 'terminate'; pick: number }
  | { kind: 'ant'; index: number; schedulable: boolean; cpu: number }
  | { kind: 'pass'; pending: Value<typeof arbitraryPending>[]; advance: number; budget: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: arbitraryAttempt.map((spec) => ({ kind: 'start' as const, spec })) },
  { weight: 2, arbitrary: fc.nat().map((pick) => ({ kind: 'end' as const, pick })) },
  { weight: 1, arbitrary: fc.nat().map((pick) => ({ kind: 'terminate' as const, pick })) },
  {
    weight: 1,
    arbitrary: fc
      .record({ index: fc.integer({ min: 0, max: 5 }), schedulable: fc.boolean(), cpu: fc.constantFrom(2, 4, 6.5) })
      .map((a) => ({
        kind: 'ant' as const,
        ...a,
      })),
  },
  {
    weight: 3,
    arbitrary: fc
      .record({
        pending: fc.array(arbitraryPending, { maxLength: 12 }),
        advance: fc.integer({ min: 0, max: 40 }),
        budget: fc.integer({ min: 1, max: 20 }),
      })
      .map((p) => ({ kind: 'pass' as const, ...p })),
  },
);

/** What a pass sees of an ant, in a form two passes can be compared by. */
const antView = (states: Cluster['states']) =>
  states.map((s) => ({
    id: s.ant.id,
    schedulable: s.ant.schedulable,
    free: s.free,
    rawFree: s.rawFree,
    attempts: s.attempts.map((a) => `${a.id}:${a.terminating === true}`),
    residents: s.residents.map((r) => r.jobId),
  }));

describe('Cluster', () => {
  it('law: a pass over a kept cluster decides exactly as a pass over a snapshot of the same ants and attempts, and gives back all it booked', () => {
    fc.assert(
      fc.property(fc.constantFrom(...PROFILES), fc.array(op, { minLength: 1, maxLength: 50 }), (profile, ops) => {
        const cluster = new Cluster(profile.options.overcommit);
        const ants: Ant[] = [];
        const attempts: RunningAttempt[] = [];
        const setAnt = (a: Ant) => {
          const at = ants.findIndex((x) => x.id === a.id);
          if (at >= 0) ants[at] = a;
          else ants.push(a);
          cluster.setAnt(a);
        };
        for (let i = 0; i < 3; i++) setAnt(ant(`ant${i}`, { cpu: 4, memory: 8 }));
        const history: Record<string, number[]> = { work: [10, 20, 30] };
        let now = 100;
        let seq = 0;
        let carryFresh: Record<string, unknown> = {};
        let carryKept: Record<string, unknown> = {};
        const start = (attempt: RunningAttempt) => {
          attempts.push(attempt);
          cluster.start(attempt);
        };
        for (const step of ops) {
          switch (step.kind) {
            case 'start': {
              const s = step.spec;
              const n = seq++;
              // Ant 4 may not exist yet: its attempts are charged to ledgers, and placed once it appears.
              start(
                running(`r${n}`, `ant${s.ant}`, {
                  jobId: `rj${n % 7}`,
                  tenant: s.tenant,
                  ...(s.user !== undefined && { user: s.user }),
                  queue: s.queue,
                  priority: s.priority,
                  resources: { cpu: s.cpu, memory: s.memory },
                  startedAt: now - s.age,
                }),
              );
              break;
            }
            case 'end': {
              if (attempts.length === 0) break;
              const [gone] = attempts.splice(step.pick % attempts.length, 1);
              expect(cluster.end(gone!.id)).toBe(true);
              break;
            }
            case 'terminate': {
              if (attempts.length === 0) break;
              const at = step.pick % attempts.length;
              attempts[at] = { ...attempts[at]!, terminating: true };
              cluster.update(attempts[at]!);
              break;
            }
            case 'ant':
              setAnt({ id: `ant${step.index}`, capacity: { cpu: step.cpu, memory: 8 }, schedulable: step.schedulable });
              break;
            case 'pass': {
              now += step.advance;
              const pending: PendingJob[] = step.pending.map((p, i) => {
                const id = `p${seq++}`;
                return job(id, {
                  tenant: p.tenant,
                  user: p.user,
                  queue: p.queue,
                  priority: p.priority,
                  submittedAt: now - i,
                  gang: p.width > 1,
                  tasks: Array.from({ length: p.width }, (_, t) => ({
                    id: `${id}.${t}`,
                    resources: { cpu: p.cpu, memory: 1 },
                    ...(p.qos && { qos: p.qos }),
                  })),
                });
              });
              const options = { ...profile.options, budget: { maxDecisions: step.budget } };
              const fresh = schedulePass({ now, pending, running: [...attempts], ants: [...ants], history }, profile.plugins, {
                ...options,
                carry: carryFresh,
              });
              const before = antView(cluster.states);
              const kept = schedulePass({ now, pending, running: [], ants: [], history }, profile.plugins, {
                ...options,
                carry: carryKept,
                cluster,
              });
              expect(kept.decisions).toEqual(fresh.decisions);
              expect([kept.examined, kept.unexamined, kept.stoppedBy]).toEqual([fresh.examined, fresh.unexamined, fresh.stoppedBy]);
              expect(kept.carry).toEqual(fresh.carry);
              expect(antView(cluster.states)).toEqual(before);
              carryFresh = fresh.carry;
              carryKept = kept.carry;
              // The workload moves on: what was placed starts, what was speculated gets its copy.
              for (const d of fresh.decisions) {
                const placements = d.kind === 'place' ? [d.placement] : d.kind === 'reserve-gang' ? d.placements : [];
                const owner = pending.find((p) => p.id === (d as { jobId?: string }).jobId);
                for (const p of placements) {
                  start(
                    running(`s${seq++}`, p.antId, {
                      jobId: owner!.id,
                      taskId: p.taskId,
                      tenant: owner!.tenant,
                      ...(owner!.user !== undefined && { user: owner!.user }),
                      ...(owner!.queue !== undefined && { queue: owner!.queue }),
                      priority: owner!.priority,
                      resources: p.resources,
                      startedAt: now,
                    }),
                  );
                }
                if (d.kind === 'speculate') {
                  const original = attempts.find((a) => a.id === d.attemptId)!;
                  start({ ...original, id: `b${seq++}`, antId: d.antId, startedAt: now, speculative: true });
                }
              }
              break;
            }
          }
        }
        // Whatever happened, the kept state is what a fresh build of the same ants and attempts gives.
        const rebuilt = new Cluster(profile.options.overcommit);
        for (const a of ants) rebuilt.setAnt(a);
        for (const a of attempts) rebuilt.start(a);
        expect(antView(cluster.states)).toEqual(antView(rebuilt.states));
        expect(cluster.running()).toEqual(attempts);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a snapshot that also lists ants or attempts, and a cluster built for another overcommit', () => {
    const profile = parseProfile('name: fcfs\nplugins: [fcfs]\n');
    const cluster = new Cluster();
    cluster.setAnt(ant('a'));
    expect(() => schedulePass({ now: 0, pending: [], running: [], ants: [ant('a')] }, profile.plugins, { cluster })).toThrow(
      /snapshot must list none/,
    );
    expect(() =>
      schedulePass({ now: 0, pending: [], running: [], ants: [] }, profile.plugins, { cluster, overcommit: { cpu: 2 } }),
    ).toThrow(/another overcommit/);
  });

  it('refuses to start an attempt twice, and an update that moves an attempt', () => {
    const cluster = new Cluster();
    cluster.setAnt(ant('a'));
    const attempt = running('r1', 'a');
    cluster.start(attempt);
    expect(() => cluster.start(attempt)).toThrow(/already running/);
    expect(() => cluster.update({ ...attempt, antId: 'b' })).toThrow(/changed ant or resources/);
    expect(() => cluster.update({ ...attempt, resources: { cpu: 2 } })).toThrow(/changed ant or resources/);
    // A copy read back from a store has equal quantities in another object: the same attempt.
    cluster.update({ ...attempt, resources: { ...attempt.resources }, terminating: true });
    expect(cluster.get('r1')?.terminating).toBe(true);
    expect(() => cluster.update(running('r2', 'a'))).toThrow(/not running/);
    expect(cluster.end('r1')).toBe(true);
    expect(cluster.end('r1')).toBe(false);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  capacity,
  concurrencyLimits,
  type Decision,
  dominantShare,
  drfAllocate,
  drfShares,
  edf,
  edfUtilisation,
  fairShare,
  fcfs,
  gang,
  hungarian,
  type PendingJob,
  type Plugin,
  priority,
  rateMonotonicBound,
  resourcesFit,
  type SimJob,
  schedulePass,
  simulate,
  sjf,
} from '../src/index.js';

const uniprocessor = [{ id: 'cpu', capacity: { cpu: 1 } }];
const run = (jobs: SimJob[], plugins: Plugin[]) => simulate({ jobs, ants: uniprocessor }, { name: 'p', plugins, options: {} });
const misses = (result: ReturnType<typeof run>) =>
  result.jobs.filter((j) => j.deadline !== undefined && (j.end ?? Number.POSITIVE_INFINITY) > j.deadline).length;

describe('law: capacity, quotas, concurrency limits and gangs hold in every pass', () => {
  const resources = fc.record({ cpu: fc.integer({ min: 0, max: 4 }), memory: fc.integer({ min: 0, max: 8 }) });
  const pendingJob = fc.record({
    tenant: fc.constantFrom('a', 'b', 'c'),
    queue: fc.constantFrom('q1', 'q2'),
    priority: fc.integer({ min: 0, max: 5 }),
    width: fc.integer({ min: 1, max: 3 }),
    gang: fc.boolean(),
    resources,
  });
  const profiles: Record<string, Plugin[]> = {
    fcfs: [fcfs()],
    drf: [fairShare({ policy: 'drf' }), priority(), resourcesFit({ fit: 'best-fit' }), gang()],
    capacity: [
      capacity({
        queues: { q1: { guaranteed: { cpu: 4 }, max: { cpu: 6 } }, q2: { guaranteed: { cpu: 2 }, max: { cpu: 5 } } },
        reclaim: false,
      }),
      concurrencyLimits({ tenant: 3 }),
      fcfs(),
      resourcesFit({ fit: 'worst-fit' }),
    ],
  };
  it('never places more than an ant has, more than a queue may use, or part of a gang', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ cpu: fc.integer({ min: 1, max: 8 }), memory: fc.integer({ min: 1, max: 16 }) }), {
          minLength: 1,
          maxLength: 5,
        }),
        fc.array(pendingJob, { maxLength: 30 }),
        fc.constantFrom(...Object.keys(profiles)),
        (capacities, specs, profile) => {
          const ants = capacities.map((c, i) => ({ id: `ant${i}`, capacity: c }));
          const pending: PendingJob[] = specs.map((s, i) => ({
            id: `j${i}`,
            jobType: 'w',
            tenant: s.tenant,
            queue: s.queue,
            priority: s.priority,
            submittedAt: i,
            gang: s.gang,
            tasks: Array.from({ length: s.width }, (_, t) => ({ id: `j${i}.${t}`, resources: s.resources })),
          }));
          const { decisions } = schedulePass({ now: 0, pending, running: [], ants }, profiles[profile]!);
          const used = new Map(ants.map((a) => [a.id, { cpu: 0, memory: 0 }]));
          const byQueue = new Map<string, number>();
          const byTenant = new Map<string, Set<string>>();
          const placed = (d: Decision) => (d.kind === 'place' ? [d.placement] : d.kind === 'reserve-gang' ? d.placements : []);
          for (const d of decisions) {
            const job = pending.find((j) => j.id === (d as { jobId?: string }).jobId);
            for (const p of placed(d)) {
              const u = used.get(p.antId)!;
              u.cpu += p.resources.cpu ?? 0;
              u.memory += p.resources.memory ?? 0;
              byQueue.set(job!.queue!, (byQueue.get(job!.queue!) ?? 0) + (p.resources.cpu ?? 0));
              byTenant.set(job!.tenant, (byTenant.get(job!.tenant) ?? new Set()).add(job!.id));
            }
            if (job?.gang && job.tasks.length > 1) {
              const tasks = decisions.filter((x) => (x as { jobId?: string }).jobId === job.id).flatMap(placed);
              expect([0, job.tasks.length]).toContain(tasks.length);
            }
          }
          for (const a of ants) {
            expect(used.get(a.id)!.cpu).toBeLessThanOrEqual(a.capacity.cpu);
            expect(used.get(a.id)!.memory).toBeLessThanOrEqual(a.capacity.memory);
          }
          if (profile === 'capacity') {
            expect(byQueue.get('q1') ?? 0).toBeLessThanOrEqual(6);
            expect(byQueue.get('q2') ?? 0).toBeLessThanOrEqual(5);
            for (const jobs of byTenant.values()) expect(jobs.size).toBeLessThanOrEqual(3);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('law: with aging, no job waits past its bound', () => {
  const R = 5;
  const W = 40;
  it('a job starts within maxWait + R x (1 + older jobs still queued when it reached maxWait), on one processor', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            gap: fc.integer({ min: 0, max: 3 }),
            duration: fc.integer({ min: 1, max: R }),
            priority: fc.integer({ min: 0, max: 9 }),
          }),
          { minLength: 1, maxLength: 60 },
        ),
        (specs) => {
          let clock = 0;
          const arrivals = specs.map((s) => {
            clock += s.gap;
            return clock;
          });
          const jobs: SimJob[] = specs.map((s, i) => ({
            id: `j${i}`,
            arrival: arrivals[i]!,
            duration: s.duration,
            resources: { cpu: 1 },
            tenant: 't',
            priority: s.priority,
          }));
          const result = run(jobs, [priority({ aging: { interval: 1_000_000, maxWait: W } })]);
          for (const [i, j] of result.jobs.entries()) {
            const olderStillQueued = result.jobs.slice(0, i).filter((o) => o.start! >= j.arrival + W).length;
            expect(j.start! - j.arrival).toBeLessThanOrEqual(W + R * (1 + olderStillQueued));
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('without aging, a low-priority job starves behind a steady high-priority stream', () => {
    const stream: SimJob[] = [
      { id: 'low', arrival: 0, duration: 1, resources: { cpu: 1 }, tenant: 't', priority: 0 },
      ...Array.from({ length: 200 }, (_, i) => ({
        id: `hi${i}`,
        arrival: i * 2,
        duration: 2,
        resources: { cpu: 1 },
        tenant: 't',
        priority: 9,
      })),
    ];
    const wait = (plugins: Plugin[]) => {
      const low = run(stream, plugins).jobs.find((j) => j.id === 'low')!;
      return low.start! - low.arrival;
    };
    expect(wait([priority()])).toBeGreaterThanOrEqual(398);
    expect(wait([priority({ aging: { interval: 1_000_000, maxWait: W } })])).toBeLessThanOrEqual(W + 2 * 2);
  });
});

describe('law: DRF', () => {
  const vector = fc.record({ cpu: fc.integer({ min: 1, max: 8 }), memory: fc.integer({ min: 1, max: 16 }) });
  const capacityArb = fc.record({ cpu: fc.integer({ min: 8, max: 64 }), memory: fc.integer({ min: 16, max: 128 }) });

  it('gives users that need every resource equal dominant shares (divisible tasks)', () => {
    fc.assert(
      fc.property(capacityArb, fc.array(vector, { minLength: 2, maxLength: 6 }), (total, demands) => {
        const tasks = drfShares(total, demands);
        const shares = demands.map((d, i) => dominantShare({ cpu: d.cpu * tasks[i]!, memory: d.memory * tasks[i]! }, total));
        for (const s of shares) expect(s).toBeCloseTo(shares[0]!, 9);
        // ...and the bottleneck resource is used up.
        const used = (key: 'cpu' | 'memory') => demands.reduce((sum, d, i) => sum + d[key] * tasks[i]!, 0);
        expect(Math.max(used('cpu') / total.cpu, used('memory') / total.memory)).toBeCloseTo(1, 9);
      }),
      { numRuns: 300 },
    );
  });

  it('is strategy-proof: no user runs more of its real tasks by claiming another demand', () => {
    fc.assert(
      fc.property(capacityArb, fc.array(vector, { minLength: 2, maxLength: 5 }), vector, (total, demands, lie) => {
        const truth = demands[0]!;
        const honest = drfShares(total, demands)[0]!;
        const claimed = drfShares(total, [lie, ...demands.slice(1)])[0]!;
        const runnable = Math.min((claimed * lie.cpu) / truth.cpu, (claimed * lie.memory) / truth.memory);
        expect(runnable).toBeLessThanOrEqual(honest * (1 + 1e-9));
      }),
      { numRuns: 300 },
    );
  });

  it('reproduces the paper example: A 3 tasks, B 2 tasks, both at dominant share 2/3, divisible or not', () => {
    const total = { cpu: 9, memory: 18 };
    const demands = [
      { cpu: 1, memory: 4 },
      { cpu: 3, memory: 1 },
    ];
    const [a, b] = drfShares(total, demands);
    expect(a).toBeCloseTo(3, 9);
    expect(b).toBeCloseTo(2, 9);
    expect(dominantShare({ cpu: a!, memory: 4 * a! }, total)).toBeCloseTo(2 / 3, 9);
    expect(dominantShare({ cpu: 3 * b!, memory: b! }, total)).toBeCloseTo(2 / 3, 9);
    expect(drfAllocate(total, demands)).toEqual([3, 2]);
  });

  it('the fair-share plugin always serves the tenant with the lowest dominant share among those whose next job fits', () => {
    fc.assert(
      fc.property(
        capacityArb,
        fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), vector), { minLength: 1, maxLength: 40 }),
        (total, specs) => {
          const pending: PendingJob[] = specs.map(([tenant, r], i) => ({
            id: `j${i}`,
            jobType: 'w',
            tenant,
            priority: 0,
            submittedAt: i,
            tasks: [{ id: `j${i}.t`, resources: r }],
          }));
          const { decisions } = schedulePass({ now: 0, pending, running: [], ants: [{ id: 'x', capacity: total }] }, [
            fairShare({ policy: 'drf' }),
            fcfs(),
          ]);
          const used: Record<string, { cpu: number; memory: number }> = {
            a: { cpu: 0, memory: 0 },
            b: { cpu: 0, memory: 0 },
            c: { cpu: 0, memory: 0 },
          };
          const free = { ...total };
          const waiting = [...pending];
          for (const d of decisions) {
            if (d.kind !== 'place') continue;
            const job = waiting.find((j) => j.id === d.jobId)!;
            const share = (t: string) => dominantShare(used[t]!, total);
            for (const t of ['a', 'b', 'c']) {
              const head = waiting.find((j) => j.tenant === t);
              const r = head?.tasks[0]?.resources;
              if (head && r && (r.cpu ?? 0) <= free.cpu && (r.memory ?? 0) <= free.memory)
                expect(share(job.tenant)).toBeLessThanOrEqual(share(t) + 1e-12);
            }
            used[job.tenant]!.cpu += d.placement.resources.cpu ?? 0;
            used[job.tenant]!.memory += d.placement.resources.memory ?? 0;
            free.cpu -= d.placement.resources.cpu ?? 0;
            free.memory -= d.placement.resources.memory ?? 0;
            waiting.splice(waiting.indexOf(job), 1);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('law: EDF on one processor', () => {
  it('meets every deadline of a feasible one-shot set (Jackson), where FCFS and priority miss some', () => {
    let fcfsMissed = 0;
    let priorityMissed = 0;
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            duration: fc.integer({ min: 1, max: 10 }),
            slack: fc.integer({ min: 0, max: 5 }),
            priority: fc.integer({ min: 0, max: 3 }),
          }),
          { minLength: 2, maxLength: 12 },
        ),
        fc.infiniteStream(fc.integer()).map((s) => s.take(1).next().value as number),
        (specs, salt) => {
          // Deadlines built from one feasible order (a permutation), so the set is schedulable with utilisation <= 1.
          const order = specs.map((_, i) => i).sort((x, y) => ((x * 7919 + salt) % 13) - ((y * 7919 + salt) % 13) || x - y);
          let clock = 0;
          const deadline = new Map<number, number>();
          for (const i of order) {
            clock += specs[i]!.duration;
            deadline.set(i, clock + specs[i]!.slack);
          }
          const jobs: SimJob[] = specs.map((s, i) => ({
            id: `j${i}`,
            arrival: 0,
            duration: s.duration,
            deadline: deadline.get(i)!,
            resources: { cpu: 1 },
            tenant: 't',
            priority: s.priority,
          }));
          expect(misses(run(jobs, [edf()]))).toBe(0);
          if (misses(run(jobs, [fcfs()])) > 0) fcfsMissed++;
          if (misses(run(jobs, [priority()])) > 0) priorityMissed++;
        },
      ),
      { numRuns: 200 },
    );
    expect(fcfsMissed).toBeGreaterThan(0);
    expect(priorityMissed).toBeGreaterThan(0);
  });

  it('meets every deadline of periodic sets with sum(C/T) <= 1 (preemption at unit quanta), where FCFS and priority miss some', () => {
    let fcfsMissed = 0;
    let priorityMissed = 0;
    const periods = [2, 3, 4, 6, 8, 12, 24];
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            period: fc.constantFrom(...periods),
            runtime: fc.integer({ min: 1, max: 6 }),
            priority: fc.integer({ min: 0, max: 5 }),
          }),
          { minLength: 1, maxLength: 5 },
        ),
        (tasks) => {
          fc.pre(tasks.every((t) => t.runtime <= t.period) && edfUtilisation(tasks).schedulable);
          // Each release of C units becomes C unit jobs with the release's deadline: EDF over them is preemptive EDF.
          const jobs: SimJob[] = [];
          tasks.forEach((t, k) => {
            for (let release = 0; release < 24; release += t.period) {
              for (let u = 0; u < t.runtime; u++) {
                jobs.push({
                  id: `t${k}r${release}u${u}`,
                  arrival: release,
                  duration: 1,
                  deadline: release + t.period,
                  resources: { cpu: 1 },
                  tenant: 't',
                  priority: t.priority,
                });
              }
            }
          });
          jobs.sort((x, y) => x.arrival - y.arrival);
          expect(misses(run(jobs, [edf()]))).toBe(0);
          if (misses(run(jobs, [fcfs()])) > 0) fcfsMissed++;
          if (misses(run(jobs, [priority()])) > 0) priorityMissed++;
        },
      ),
      { numRuns: 150 },
    );
    expect(fcfsMissed).toBeGreaterThan(0);
    expect(priorityMissed).toBeGreaterThan(0);
  });

  it("reproduces Liu & Layland's bounds: EDF up to 100%, rate monotonic guaranteed only to n(2^(1/n)-1): 0.828 for 2, 0.780 for 3, -> ln 2", () => {
    expect(rateMonotonicBound(2)).toBeCloseTo(0.8284, 4);
    expect(rateMonotonicBound(3)).toBeCloseTo(0.7798, 4);
    expect(rateMonotonicBound(1000)).toBeCloseTo(Math.LN2, 3);
    // (1,4), (2,6), (3,8): U = 0.958, past the RM bound yet EDF-schedulable.
    expect(
      edfUtilisation([
        { runtime: 1, period: 4 },
        { runtime: 2, period: 6 },
        { runtime: 3, period: 8 },
      ]),
    ).toMatchObject({ schedulable: true });
    expect(
      edfUtilisation([
        { runtime: 1, period: 4 },
        { runtime: 2, period: 6 },
        { runtime: 3, period: 8 },
      ]).utilisation,
    ).toBeCloseTo(23 / 24, 12);
    expect(
      edfUtilisation([
        { runtime: 3, period: 4 },
        { runtime: 2, period: 6 },
      ]).schedulable,
    ).toBe(false);
  });
});

describe('law: SJF', () => {
  const permutations = <T>(items: T[]): T[][] =>
    items.length <= 1
      ? [items]
      : items.flatMap((x, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((p) => [x, ...p]));
  const meanWait = (durations: number[]) =>
    durations.reduce((acc, _, i) => acc + durations.slice(0, i).reduce((a, b) => a + b, 0), 0) / durations.length;

  it('gives the lowest mean wait of every non-preemptive order of a batch', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 6 }), (durations) => {
        const jobs: SimJob[] = durations.map((d, i) => ({
          id: `j${i}`,
          arrival: 0,
          duration: d,
          estimatedRuntime: d,
          resources: { cpu: 1 },
          tenant: 't',
        }));
        const result = run(jobs, [sjf()]);
        const waited = result.jobs.reduce((sum, j) => sum + j.start!, 0) / jobs.length;
        const best = Math.min(...permutations(durations).map(meanWait));
        expect(waited).toBeCloseTo(best, 9);
      }),
      { numRuns: 200 },
    );
  });

  it('reproduces the textbook examples (Silberschatz): FCFS 24, 3, 3 waits 17 on average; SJF on 6, 8, 7, 3 waits 7', () => {
    const batch = (durations: number[]) =>
      durations.map((d, i) => ({ id: `P${i + 1}`, arrival: 0, duration: d, estimatedRuntime: d, resources: { cpu: 1 }, tenant: 't' }));
    const mean = (r: ReturnType<typeof run>) => r.jobs.reduce((s, j) => s + j.start!, 0) / r.jobs.length;
    expect(mean(run(batch([24, 3, 3]), [fcfs()]))).toBe(17);
    expect(mean(run(batch([6, 8, 7, 3]), [sjf()]))).toBe(7);
    expect(mean(run(batch([6, 8, 7, 3]), [fcfs()]))).toBe(10.25);
  });
});

describe('law: the Hungarian method is optimal', () => {
  it('matches brute force on random matrices', () => {
    const best = (cost: number[][]): number => {
      const n = cost.length;
      const m = cost[0]!.length;
      const go = (row: number, used: Set<number>): number => {
        if (row === n) return 0;
        let min = Number.POSITIVE_INFINITY;
        for (let j = 0; j < m; j++) if (!used.has(j)) min = Math.min(min, cost[row]![j]! + go(row + 1, new Set([...used, j])));
        return min;
      };
      return go(0, new Set());
    };
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 5 })
          .chain((n) =>
            fc
              .integer({ min: n, max: 6 })
              .chain((m) =>
                fc.array(fc.array(fc.integer({ min: 0, max: 100 }), { minLength: m, maxLength: m }), { minLength: n, maxLength: n }),
              ),
          ),
        (cost) => {
          const { assignment, total } = hungarian(cost);
          expect(new Set(assignment).size).toBe(cost.length);
          expect(total).toBe(best(cost));
        },
      ),
      { numRuns: 300 },
    );
  });
});

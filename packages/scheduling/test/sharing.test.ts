import { describe, expect, it } from 'vitest';
import {
  capacity,
  concurrencyLimits,
  drfAllocate,
  fairShare,
  fcfs,
  jainIndex,
  maxMinShares,
  preemption,
  schedulePass,
  sensors,
  speculative,
} from '../src/index.js';
import { ant, job, running, started } from './support.js';

const tenants = (n: number, perTenant: number, extra: (t: string) => object = () => ({})) =>
  Array.from({ length: n * perTenant }, (_, i) => {
    const t = `t${i % n}`;
    return job(`${t}-${i}`, { tenant: t, submittedAt: i, ...extra(t) });
  });
const countBy = (ids: readonly (string | undefined)[]) => {
  const counts: Record<string, number> = {};
  for (const id of ids) {
    const owner = id!.split('-')[0]!;
    counts[owner] = (counts[owner] ?? 0) + 1;
  }
  return counts;
};

describe('fair share', () => {
  it('weighted max-min: tenants get cpu in proportion to their weights', () => {
    const pending = [...tenants(2, 40)];
    const { decisions } = schedulePass({ now: 0, pending, running: [], ants: [ant('x', { cpu: 30 })] }, [
      fairShare({ policy: 'maxmin', weights: { t0: 2 } }),
      fcfs(),
    ]);
    expect(countBy(started(decisions))).toEqual({ t0: 20, t1: 10 });
  });

  it('counts what already runs: a tenant with running work waits for the others to catch up', () => {
    const pending = tenants(2, 10);
    const hog = Array.from({ length: 6 }, (_, i) => running(`r${i}`, 'x', { tenant: 't0' }));
    const { decisions } = schedulePass({ now: 0, pending, running: hog, ants: [ant('x', { cpu: 10 })] }, [
      fairShare({ policy: 'maxmin' }),
      fcfs(),
    ]);
    expect(countBy(started(decisions))).toEqual({ t1: 4 });
  });

  it('DRF balances dominant shares across resource mixes', () => {
    const a = Array.from({ length: 10 }, (_, i) => job(`A-${i}`, { tenant: 'A', resources: { cpu: 1, memory: 4 }, submittedAt: i }));
    const b = Array.from({ length: 10 }, (_, i) => job(`B-${i}`, { tenant: 'B', resources: { cpu: 3, memory: 1 }, submittedAt: i }));
    const { decisions } = schedulePass({ now: 0, pending: [...a, ...b], running: [], ants: [ant('x', { cpu: 9, memory: 18 })] }, [
      fairShare({ policy: 'drf' }),
      fcfs(),
    ]);
    expect(countBy(started(decisions))).toEqual({ A: 3, B: 2 });
  });

  it('hierarchical: tenants share equally, then users inside each tenant', () => {
    const pending = [
      ...Array.from({ length: 10 }, (_, i) => job(`acme-${i}`, { tenant: 'acme', user: i % 2 ? 'ann' : 'bob', submittedAt: i })),
      ...Array.from({ length: 10 }, (_, i) => job(`zeta-${i}`, { tenant: 'zeta', user: 'zed', submittedAt: i })),
    ];
    const { decisions } = schedulePass({ now: 0, pending, running: [], ants: [ant('x', { cpu: 8 })] }, [
      fairShare({ by: 'tenant', policy: 'maxmin' }),
      fairShare({ by: 'user', policy: 'maxmin' }),
      fcfs(),
    ]);
    const ids = started(decisions);
    expect(countBy(ids)).toEqual({ acme: 4, zeta: 4 });
    const acme = ids.filter((id) => id?.startsWith('acme')).map((id) => Number(id!.split('-')[1]) % 2);
    expect(acme.filter((odd) => odd === 1)).toHaveLength(2);
  });

  it('deficit round robin serves in proportion to weight x quantum over job costs', () => {
    const pending = tenants(2, 60, () => ({ estimatedRuntime: 1_000 }));
    const { decisions } = schedulePass({ now: 0, pending, running: [], ants: [ant('x', { cpu: 40 })] }, [
      fairShare({ policy: 'drr', weights: { t0: 3 } }),
      fcfs(),
    ]);
    expect(countBy(started(decisions))).toEqual({ t0: 30, t1: 10 });
  });

  it('lottery: tickets by weight, the same seed draws the same', () => {
    const pending = tenants(2, 500);
    const run = (seed: number) =>
      started(
        schedulePass(
          { now: 7, pending, running: [], ants: [ant('x', { cpu: 400 })] },
          [fairShare({ policy: 'lottery', weights: { t0: 3 } }), fcfs()],
          { seed },
        ).decisions,
      );
    const counts = countBy(run(42));
    expect(counts.t0! / 400).toBeGreaterThan(0.68);
    expect(counts.t0! / 400).toBeLessThan(0.82);
    expect(run(42)).toEqual(run(42));
    expect(run(43)).not.toEqual(run(42));
  });

  it('reproduces the DRF paper: 9 CPUs, 18 GB; A <1 CPU, 4 GB>, B <3 CPU, 1 GB> get 3 and 2 tasks (Ghodsi et al. 2011, section 4)', () => {
    expect(
      drfAllocate({ cpu: 9, memory: 18 }, [
        { cpu: 1, memory: 4 },
        { cpu: 3, memory: 1 },
      ]),
    ).toEqual([3, 2]);
  });

  it('max-min water filling: capacity 10 over demands 2, 2.6, 4, 5 gives 2, 2.6, 2.7, 2.7 (Keshav)', () => {
    const shares = maxMinShares(10, [2, 2.6, 4, 5]);
    expect(shares.map((s) => Number(s.toFixed(6)))).toEqual([2, 2.6, 2.7, 2.7]);
  });

  it("Jain's index is 1 for equal shares and 1/n when one has all", () => {
    expect(jainIndex([3, 3, 3])).toBe(1);
    expect(jainIndex([5, 0, 0, 0])).toBe(0.25);
  });
});

describe('concurrency limits (Formicary)', () => {
  it('holds by organisation, then user, then job type, with the limit in the reason', () => {
    const limits = [concurrencyLimits({ tenant: 2, user: 1 }), fcfs()];
    const runningNow = [running('r1', 'x', { tenant: 'acme', user: 'ann' })];
    const pending = [
      job('ann2', { user: 'ann', submittedAt: 1 }),
      job('bob1', { user: 'bob', submittedAt: 2 }),
      job('bob2', { user: 'bob', submittedAt: 3 }),
    ];
    const { decisions } = schedulePass({ now: 0, pending, running: runningNow, ants: [ant('x', { cpu: 10 })] }, limits);
    expect(started(decisions)).toEqual(['bob1']);
    expect(decisions.find((d) => 'jobId' in d && d.jobId === 'ann2')).toMatchObject({
      kind: 'hold',
      reason: 'held: user ann at concurrency 1/1',
    });
    expect(decisions.find((d) => 'jobId' in d && d.jobId === 'bob2')).toMatchObject({
      kind: 'hold',
      reason: 'held: tenant acme at concurrency 2/2',
    });
  });

  it('holds past the job type max_concurrency and retries after 15 to 120 s by default', () => {
    const { decisions } = schedulePass(
      { now: 0, pending: [job('j', { maxConcurrency: 1 })], running: [running('r', 'x')], ants: [ant('x', { cpu: 10 })] },
      [concurrencyLimits()],
    );
    const hold = decisions[0] as { retryAt: number; reason: string };
    expect(hold.reason).toBe('held: job type work at concurrency 1/1');
    expect(hold.retryAt).toBeGreaterThanOrEqual(15_000);
    expect(hold.retryAt).toBeLessThan(30_000);
  });

  it('degrades priority to max(1, ln p) but never lets priority 1 or 0 past a limit (the Formicary escape-valve bug)', () => {
    const limits = [concurrencyLimits({ tenant: 1 })];
    const at = (priority: number) =>
      schedulePass({ now: 0, pending: [job('j', { priority })], running: [running('r', 'x')], ants: [ant('x', { cpu: 10 })] }, limits)
        .decisions[0];
    expect(at(20)).toMatchObject({ kind: 'hold', priority: 2 });
    expect(at(2)).toMatchObject({ kind: 'hold', priority: 1 });
    expect(at(1)).toMatchObject({ kind: 'hold' });
    expect(at(0)).toMatchObject({ kind: 'hold' });
  });
});

describe('capacity', () => {
  const queues = {
    root: { guaranteed: { cpu: 10 }, max: { cpu: 10 } },
    prod: { parent: 'root', guaranteed: { cpu: 6 }, max: { cpu: 10 } },
    dev: { parent: 'root', guaranteed: { cpu: 4 }, max: { cpu: 6 }, softMax: { cpu: 4 } },
  };
  const ants = [ant('x', { cpu: 20 })];

  it('lets a queue borrow idle capacity up to its maximum, never past it', () => {
    const pending = Array.from({ length: 10 }, (_, i) => job(`d${i}`, { queue: 'dev', submittedAt: i }));
    const { decisions } = schedulePass({ now: 0, pending, running: [], ants }, [capacity({ queues }), fcfs()]);
    expect(started(decisions)).toHaveLength(6);
    expect(decisions.find((d) => d.kind === 'hold')).toMatchObject({ reason: 'held: queue dev at its maximum cpu=6 (using cpu=6)' });
  });

  it('applies a parent queue maximum to its children together', () => {
    const pending = [
      ...Array.from({ length: 8 }, (_, i) => job(`p${i}`, { queue: 'prod', submittedAt: i })),
      ...Array.from({ length: 8 }, (_, i) => job(`d${i}`, { queue: 'dev', submittedAt: i })),
    ];
    const { decisions } = schedulePass({ now: 0, pending, running: [], ants }, [capacity({ queues }), fcfs()]);
    expect(started(decisions)).toHaveLength(10);
  });

  it('serves the queue furthest below its guarantee first, queues over their soft limit last', () => {
    const pending = [job('d', { queue: 'dev', submittedAt: 0 }), job('p', { queue: 'prod', submittedAt: 1 })];
    const devBusy = Array.from({ length: 5 }, (_, i) => running(`r${i}`, 'x', { queue: 'dev' }));
    const { decisions } = schedulePass({ now: 0, pending, running: devBusy, ants: [ant('x', { cpu: 6 })] }, [capacity({ queues }), fcfs()]);
    expect(started(decisions)).toEqual(['p']);
  });

  it('reclaims borrowed capacity by preemption with a grace period', () => {
    const borrowed = Array.from({ length: 6 }, (_, i) => running(`dev${i}`, 'x', { queue: 'dev', startedAt: i }));
    const { decisions } = schedulePass(
      { now: 100, pending: [job('p', { queue: 'prod', cpu: 2 })], running: borrowed, ants: [ant('x', { cpu: 6 })] },
      [capacity({ queues, grace: 10 }), fcfs()],
    );
    const preempted = decisions.filter((d) => d.kind === 'preempt');
    expect(preempted.map((d) => d.kind === 'preempt' && d.attemptId)).toEqual(['dev5', 'dev4']);
    expect(preempted[0]).toMatchObject({ graceMs: 10, forJobId: 'p' });
    expect(decisions.find((d) => d.kind === 'hold')).toMatchObject({ retryAt: 110 });
  });

  it('holds a queue that used its quota until the period resets', () => {
    const quotaQueues = { batch: { quota: { cpu: 3_600_000 }, period: '1d' } };
    const usage = { 'queue:batch': { consumed: { cpu: 3_600_000 }, periodStart: 0 } };
    const plugins = [capacity({ queues: quotaQueues })];
    const at = (now: number) =>
      schedulePass({ now, pending: [job('b', { queue: 'batch' })], running: [], ants, usage }, plugins).decisions[0];
    expect(at(1_000)).toMatchObject({
      kind: 'hold',
      retryAt: 86_400_000,
      reason: 'held: queue batch used its quota cpu=3600000 for this period',
    });
    expect(at(86_400_000)).toEqual({ kind: 'admit', jobId: 'b' });
  });

  it('refuses unknown parents, cycles and a quota without a period', () => {
    expect(() => capacity({ queues: { a: { parent: 'nope' } } })).toThrow(/unknown parent queue 'nope'/);
    expect(() => capacity({ queues: { a: { parent: 'b' }, b: { parent: 'a' } } })).toThrow(/its own ancestor/);
    expect(() => capacity({ queues: { a: { quota: { cpu: 1 } } } })).toThrow(/quota and period go together/);
  });
});

describe('preemption', () => {
  it('stops the fewest lower-priority attempts, newest first, with a grace period, and only once', () => {
    const attempts = [
      running('old', 'x', { priority: 1, startedAt: 0, resources: { cpu: 2 } }),
      running('new', 'x', { priority: 1, startedAt: 50, resources: { cpu: 2 } }),
      running('vip', 'y', { priority: 9, resources: { cpu: 4 } }),
    ];
    const ants = [ant('x', { cpu: 4 }), ant('y', { cpu: 4 })];
    const urgent = job('urgent', { priority: 5, cpu: 2 });
    const first = schedulePass({ now: 100, pending: [urgent], running: attempts, ants }, [preemption({ grace: '30s' })]).decisions;
    expect(first.filter((d) => d.kind === 'preempt')).toEqual([
      { kind: 'preempt', attemptId: 'new', reason: 'preempted by job urgent (priority 5)', graceMs: 30_000, forJobId: 'urgent' },
    ]);
    const again = schedulePass(
      { now: 200, pending: [urgent], running: attempts.map((a) => (a.id === 'new' ? { ...a, terminating: true } : a)), ants },
      [preemption()],
    ).decisions;
    expect(again.filter((d) => d.kind === 'preempt')).toEqual([]);
    expect(again[0]).toMatchObject({ kind: 'hold', reason: 'waiting for preempted attempts to stop' });
  });
  it('never preempts equal or higher priority', () => {
    const { decisions } = schedulePass(
      { now: 0, pending: [job('j', { priority: 3 })], running: [running('r', 'x', { priority: 3 })], ants: [ant('x', { cpu: 1 })] },
      [preemption()],
    );
    expect(decisions).toEqual([expect.objectContaining({ kind: 'hold', reason: 'no ant has resources cpu=1' })]);
  });
});

describe('speculative execution', () => {
  const history = { work: [100, 100, 110, 120, 100, 105, 100, 100, 100, 130] };
  const ants = [ant('x', { cpu: 2 }), ant('y', { cpu: 2 })];
  it('backs up a straggler past the 90th percentile on another ant, once', () => {
    const slow = running('slow', 'x', { startedAt: 0 });
    const { decisions } = schedulePass(
      { now: 200, pending: [], running: [slow, running('fine', 'x', { startedAt: 150 })], ants, history },
      [speculative()],
    );
    expect(decisions).toEqual([{ kind: 'speculate', attemptId: 'slow', antId: 'y', resources: { cpu: 1 } }]);
    const backup = running('slow-b', 'y', { taskId: slow.taskId, speculative: true, startedAt: 200 });
    expect(schedulePass({ now: 300, pending: [], running: [slow, backup], ants, history }, [speculative()]).decisions).toEqual([]);
  });
  it("follows a task's speculative_backup threshold and its resource threshold", () => {
    const attempt = running('a', 'x', {
      startedAt: 0,
      estimatedRuntime: 100,
      speculativeBackup: { delayThreshold: 1.5, resourceThreshold: 0.3 },
    });
    const at = (now: number, extra: (typeof attempt)[] = []) =>
      schedulePass({ now, pending: [], running: [attempt, ...extra], ants }, [speculative()]).decisions;
    expect(at(140)).toEqual([]);
    expect(at(160)).toHaveLength(1);
    const busy = [running('b1', 'y', { resources: { cpu: 2 } }), running('b2', 'x', { resources: { cpu: 0.5 } })];
    expect(at(160, busy)).toEqual([]);
  });
});

describe('sensors', () => {
  it('lets a polling job run until its bound, then gives up', () => {
    const poll = (polls: number) =>
      schedulePass({ now: 0, pending: [job('s', { polls, maxPolls: 20 })], running: [], ants: [ant('x')] }, [sensors()]).decisions[0];
    expect(poll(19)).toEqual({ kind: 'admit', jobId: 's' });
    expect(poll(20)).toEqual({ kind: 'give-up', jobId: 's', reason: 'sensor gave up after 20 polls (bound 20)' });
  });
});

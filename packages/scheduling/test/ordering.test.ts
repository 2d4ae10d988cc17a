import { describe, expect, it } from 'vitest';
import { edf, effectivePriority, fcfs, multilevel, priority, schedulePass, sjf } from '../src/index.js';
import { ant, job, started } from './support.js';

const oneSlot = [ant('x', { cpu: 1 })];
const order = (plugins: Parameters<typeof schedulePass>[1], pending: Parameters<typeof schedulePass>[0]['pending'], now = 0) =>
  started(schedulePass({ now, pending, running: [], ants: [ant('x', { cpu: 100 })] }, plugins).decisions);

describe('fcfs', () => {
  it('starts jobs in submission order', () => {
    expect(order([fcfs()], [job('c', { submittedAt: 3 }), job('a', { submittedAt: 1 }), job('b', { submittedAt: 2 })])).toEqual([
      'a',
      'b',
      'c',
    ]);
  });
});

describe('priority', () => {
  it('starts higher priority first, submission order within a priority', () => {
    const pending = [
      job('low', { priority: 1 }),
      job('high-late', { priority: 9, submittedAt: 5 }),
      job('high', { priority: 9, submittedAt: 1 }),
    ];
    expect(order([priority()], pending)).toEqual(['high', 'high-late', 'low']);
  });

  it('ages: each interval waited adds the step', () => {
    expect(effectivePriority(job('a', { priority: 2, submittedAt: 0 }), 250, { interval: 100, step: 3 })).toBe(8);
    const pending = [job('old-low', { priority: 1, submittedAt: 0 }), job('new-high', { priority: 5, submittedAt: 900 })];
    expect(order([priority({ aging: { interval: 100 } })], pending, 1_000)).toEqual(['old-low', 'new-high']);
    expect(order([priority()], pending, 1_000)).toEqual(['new-high', 'old-low']);
  });

  it('puts a job that has waited maxWait before every job that has not', () => {
    const pending = [job('starved', { priority: -100, submittedAt: 0 }), job('vip', { priority: 100, submittedAt: 50 })];
    expect(order([priority({ aging: { interval: '1h', maxWait: 60 } })], pending, 60)).toEqual(['starved', 'vip']);
  });

  it("degrades a repeatedly unschedulable job's priority every fifth attempt while above 5 (Formicary)", () => {
    const plugins = [priority({ degrade: {} })];
    const hold = (attempts: number, p: number) =>
      schedulePass(
        { now: 0, pending: [job('g', { cpu: 9, priority: p, scheduleAttempts: attempts })], running: [], ants: oneSlot },
        plugins,
      ).decisions[0];
    expect(hold(4, 8)).toMatchObject({ kind: 'hold', priority: 7 });
    expect(hold(3, 8)).not.toHaveProperty('priority');
    expect(hold(4, 5)).not.toHaveProperty('priority');
  });
});

describe('sjf', () => {
  it('starts the shortest expected runtime first, from estimates or history', () => {
    const pending = [
      job('long', { estimatedRuntime: 9 }),
      job('short', { estimatedRuntime: 1 }),
      job('typed', { jobType: 'quick' }),
      job('unknown', { jobType: 'new' }),
    ];
    const result = schedulePass({ now: 0, pending, running: [], ants: [ant('x', { cpu: 100 })], history: { quick: [4, 6] } }, [sjf()]);
    expect(started(result.decisions)).toEqual(['short', 'typed', 'long', 'unknown']);
  });
});

describe('edf', () => {
  it('starts the earliest deadline first; jobs without one last', () => {
    const pending = [job('none'), job('late', { deadline: 50 }), job('soon', { deadline: 10 })];
    expect(order([edf()], pending)).toEqual(['soon', 'late', 'none']);
  });

  it('orders by laxity when asked, and gives up on jobs that can no longer make it', () => {
    const pending = [job('slack', { deadline: 100, estimatedRuntime: 10 }), job('tight', { deadline: 120, estimatedRuntime: 115 })];
    expect(order([edf({ by: 'laxity' })], pending)).toEqual(['tight', 'slack']);
    const { decisions } = schedulePass({ now: 50, pending, running: [], ants: oneSlot }, [edf({ by: 'laxity', dropHopeless: true })]);
    expect(decisions).toContainEqual(expect.objectContaining({ kind: 'give-up', jobId: 'tight' }));
  });
});

describe('multilevel', () => {
  const pending = [
    job('b1', { queue: 'batch', submittedAt: 1 }),
    job('i1', { queue: 'interactive', submittedAt: 2 }),
    job('b2', { queue: 'batch', submittedAt: 3 }),
    job('i2', { queue: 'interactive', submittedAt: 4 }),
    job('s1', { queue: 'system', submittedAt: 5 }),
  ];

  it('serves queues by fixed priority: a queue runs only when those before it are empty', () => {
    expect(order([multilevel({ order: ['system', 'interactive', 'batch'] }), fcfs()], pending)).toEqual(['s1', 'i1', 'i2', 'b1', 'b2']);
  });

  it('time-slices by weight', () => {
    const many = Array.from({ length: 30 }, (_, i) =>
      job(`${i % 3 === 0 ? 'a' : 'b'}${i}`, { queue: i % 3 === 0 ? 'a' : 'b', submittedAt: i }),
    );
    const first = order([multilevel({ policy: 'weighted', weights: { a: 3, b: 1 } }), fcfs()], many).slice(0, 8);
    expect(first.filter((id) => id?.startsWith('a'))).toHaveLength(6);
  });

  it('classifies by expected duration', () => {
    const byDuration = [
      job('long', { estimatedRuntime: 7_200_000 }),
      job('short', { estimatedRuntime: 30_000 }),
      job('medium', { estimatedRuntime: 600_000 }),
    ];
    const plugins = [multilevel({ by: 'duration', classes: { short: '1m', medium: '1h' }, order: ['short', 'medium', 'long'] })];
    expect(order(plugins, byDuration)).toEqual(['short', 'medium', 'long']);
  });

  it('refuses weighted slicing without weights', () => {
    expect(() => multilevel({ policy: 'weighted' })).toThrow(/weights/);
  });
});

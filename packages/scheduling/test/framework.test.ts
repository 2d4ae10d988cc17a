import { describe, expect, it } from 'vitest';
import { fcfs, type PendingJob, type Plugin, priority, resourcesFit, schedulePass } from '../src/index.js';
import { ant, job, running, started } from './support.js';

describe('schedulePass', () => {
  it('places in queue order and holds what does not fit, naming the missing resource', () => {
    const { decisions, stoppedBy } = schedulePass(
      {
        now: 10,
        pending: [job('b', { submittedAt: 2 }), job('a', { submittedAt: 1 }), job('big', { cpu: 8, submittedAt: 3 })],
        running: [],
        ants: [ant('x', { cpu: 2 })],
      },
      [fcfs()],
    );
    expect(started(decisions)).toEqual(['a', 'b']);
    expect(stoppedBy).toBe('cluster-full');
    expect(decisions.find((d) => d.kind === 'place' && d.jobId === 'a')).toMatchObject({ placement: { antId: 'x' } });
  });

  it('says which resource no ant has, with a retry time', () => {
    const { decisions } = schedulePass(
      { now: 100, pending: [job('big', { cpu: 8 })], running: [], ants: [ant('x', { cpu: 2 })] },
      [fcfs()],
      { retryMs: 50 },
    );
    expect(decisions).toEqual([{ kind: 'hold', jobId: 'big', reason: 'no ant has resources cpu=8', retryAt: 150, plugin: 'placement' }]);
  });

  it('counts running attempts against the ants they occupy', () => {
    const { decisions } = schedulePass(
      {
        now: 0,
        pending: [job('a', { cpu: 2 })],
        running: [running('r', 'x', { resources: { cpu: 3 } })],
        ants: [ant('x', { cpu: 4 }), ant('y', { cpu: 2 })],
      },
      [fcfs()],
    );
    expect(decisions.find((d) => d.kind === 'place')).toMatchObject({ placement: { antId: 'y' } });
  });

  it('skips jobs that are not yet due and never-schedulable ants', () => {
    const { decisions } = schedulePass(
      {
        now: 0,
        pending: [job('later', { notBefore: 5 }), job('now')],
        running: [],
        ants: [{ ...ant('down'), schedulable: false }, ant('up')],
      },
      [fcfs()],
    );
    expect(started(decisions)).toEqual(['now']);
    expect(decisions.find((d) => d.kind === 'place')).toMatchObject({ placement: { antId: 'up' } });
  });

  it('stops at its budget, leaving the rest unexamined, even when a plugin holds every job', () => {
    const holdAll: Plugin = { name: 'hold-all', admit: () => ({ reason: 'no' }) };
    const pending = Array.from({ length: 5_000 }, (_, i) => job(`j${i}`, { submittedAt: i }));
    const result = schedulePass({ now: 0, pending, running: [], ants: [ant('x')] }, [fcfs(), holdAll], { budget: { maxExamined: 600 } });
    expect(result.examined).toBe(600);
    expect(result.unexamined).toBe(4_400);
    expect(result.stoppedBy).toBe('budget');
    expect(result.decisions.every((d) => d.kind === 'hold')).toBe(true);
  });

  it('keeps a presorted queue as given instead of re-sorting it', () => {
    const pending = [
      job('c', { submittedAt: 3 }),
      job('a', { submittedAt: 1 }),
      job('later', { notBefore: 9 }),
      job('b', { submittedAt: 2 }),
    ];
    const snapshot = { now: 0, pending, running: [], ants: [ant('x', { cpu: 10 })] };
    expect(started(schedulePass(snapshot, [fcfs()], { presorted: true }).decisions)).toEqual(['c', 'a', 'b']);
    expect(started(schedulePass(snapshot, [fcfs()]).decisions)).toEqual(['a', 'b', 'c']);
  });

  it('yields when the caller asks', () => {
    let calls = 0;
    const result = schedulePass(
      { now: 0, pending: Array.from({ length: 10 }, (_, i) => job(`j${i}`)), running: [], ants: [ant('x', { cpu: 100 })] },
      [fcfs()],
      { budget: { shouldYield: () => ++calls > 3 } },
    );
    expect(result.stoppedBy).toBe('yield');
    expect(started(result.decisions)).toHaveLength(3);
  });

  it('scores ants with the weighted plugins (best fit packs, worst fit spreads)', () => {
    const snapshot = { now: 0, pending: [job('a', { cpu: 2 })], running: [], ants: [ant('roomy', { cpu: 16 }), ant('snug', { cpu: 3 })] };
    const best = schedulePass(snapshot, [fcfs(), resourcesFit({ fit: 'best-fit' })]).decisions.find((d) => d.kind === 'place');
    const worst = schedulePass(snapshot, [fcfs(), resourcesFit({ fit: 'worst-fit' })]).decisions.find((d) => d.kind === 'place');
    expect(best).toMatchObject({ placement: { antId: 'snug' } });
    expect(worst).toMatchObject({ placement: { antId: 'roomy' } });
  });

  it('lets burstable work use overcommitted capacity but keeps guaranteed work within physical capacity', () => {
    const guaranteed = job('g', { tasks: [{ id: 'g.t', resources: { cpu: 3 }, qos: 'guaranteed' }] });
    const burstable = job('b', { tasks: [{ id: 'b.t', resources: { cpu: 3 }, qos: 'burstable' }] });
    const snapshot = (pending: PendingJob[]) => ({
      now: 0,
      pending,
      running: [running('r', 'x', { resources: { cpu: 2 } })],
      ants: [ant('x', { cpu: 4 })],
    });
    expect(started(schedulePass(snapshot([burstable]), [priority()], { overcommit: { cpu: 1.5 } }).decisions)).toEqual(['b']);
    const held = schedulePass(snapshot([guaranteed]), [priority()], { overcommit: { cpu: 1.5 } }).decisions;
    expect(held).toEqual([expect.objectContaining({ kind: 'hold', jobId: 'g', reason: 'no ant has resources cpu=3' })]);
    const both = schedulePass(snapshot([burstable, { ...burstable, id: 'b2', submittedAt: 1 }]), [fcfs()], { overcommit: { cpu: 1.5 } });
    expect(started(both.decisions)).toEqual(['b']);
    expect(both).toMatchObject({ stoppedBy: 'cluster-full', unexamined: 1 });
  });
});

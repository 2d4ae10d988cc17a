import { describe, expect, it } from 'vitest';
import {
  affinity,
  delay,
  fcfs,
  fragmentation,
  gang,
  hungarian,
  matches,
  type PendingJob,
  resourcesFit,
  schedulePass,
} from '../src/index.js';
import { ant, job, started } from './support.js';

const place = (decisions: ReturnType<typeof schedulePass>['decisions'], jobId: string) =>
  decisions.flatMap((d) =>
    d.kind === 'place' && d.jobId === jobId
      ? [d.placement.antId]
      : d.kind === 'reserve-gang' && d.jobId === jobId
        ? d.placements.map((p) => p.antId)
        : [],
  );

describe('match expressions', () => {
  const labels = { region: 'eu-west-1', gpu: '2', compliance: 'gdpr' };
  it.each([
    ['In', ['eu-west-1', 'eu-central-1'], true],
    ['In', ['us-east-1'], false],
    ['NotIn', ['us-east-1'], true],
    ['NotIn', ['eu-west-1'], false],
  ] as const)('region %s %j is %s', (operator, values, expected) => {
    expect(matches({ key: 'region', operator, values: [...values] }, labels)).toBe(expected);
  });
  it('Exists, DoesNotExist, Gt and Lt', () => {
    expect(matches({ key: 'gpu', operator: 'Exists' }, labels)).toBe(true);
    expect(matches({ key: 'fpga', operator: 'Exists' }, labels)).toBe(false);
    expect(matches({ key: 'fpga', operator: 'DoesNotExist' }, labels)).toBe(true);
    expect(matches({ key: 'gpu', operator: 'Gt', values: ['1'] }, labels)).toBe(true);
    expect(matches({ key: 'gpu', operator: 'Lt', values: ['2'] }, labels)).toBe(false);
    expect(matches({ key: 'region', operator: 'Gt', values: ['1'] }, labels)).toBe(false);
    expect(matches({ key: 'fpga', operator: 'NotIn', values: ['x'] }, labels)).toBe(true);
  });
});

describe('affinity', () => {
  const ants = [
    ant('us', { cpu: 4 }, { region: 'us-east-1' }),
    ant('eu', { cpu: 4 }, { region: 'eu-west-1', compliance: 'gdpr' }),
    ant('eu2', { cpu: 4 }, { region: 'eu-central-1' }),
  ];
  const eu: PendingJob = job('eu-job', {
    tasks: [
      {
        id: 't',
        resources: { cpu: 1 },
        affinity: {
          required: [
            [
              { key: 'region', operator: 'In', values: ['eu-west-1', 'eu-central-1'] },
              { key: 'compliance', operator: 'In', values: ['gdpr'] },
            ],
          ],
        },
      },
    ],
  });

  it('places only on ants matching a required term (expressions ANDed)', () => {
    expect(place(schedulePass({ now: 0, pending: [eu], running: [], ants }, [affinity()]).decisions, 'eu-job')).toEqual(['eu']);
  });

  it('holds with the reason when no ant matches', () => {
    const { decisions } = schedulePass({ now: 0, pending: [eu], running: [], ants: [ants[0]!] }, [affinity()]);
    expect(decisions[0]).toMatchObject({ kind: 'hold', reason: 'affinity: no ant matches the required labels' });
  });

  it('prefers ants matching preferred terms by weight', () => {
    const preferring = job('p', {
      tasks: [
        {
          id: 't',
          resources: { cpu: 1 },
          affinity: { preferred: [{ weight: 5, match: [{ key: 'region', operator: 'In', values: ['eu-central-1'] }] }] },
        },
      ],
    });
    expect(place(schedulePass({ now: 0, pending: [preferring], running: [], ants }, [affinity()]).decisions, 'p')).toEqual(['eu2']);
  });

  it('keeps anti-affine tasks of one job apart', () => {
    const spread = job('s', {
      tasks: ['a', 'b', 'c'].map((id) => ({ id, resources: { cpu: 1 }, affinity: { antiAffinity: ['self'] } })),
    });
    expect(new Set(place(schedulePass({ now: 0, pending: [spread], running: [], ants }, [fcfs(), affinity()]).decisions, 's')).size).toBe(
      3,
    );
  });

  it('places a batch optimally with the Hungarian method where greedy placement is worse', () => {
    // Task a likes both devices, task b only the first: greedy gives a the first and b the worse one.
    const devices = [ant('d1', { cpu: 1 }, { camera: 'yes', sms: 'yes' }), ant('d2', { cpu: 1 }, { sms: 'yes' })];
    const pref = (key: string) => ({ preferred: [{ weight: 1, match: [{ key, operator: 'Exists' as const }] }] });
    const batch = job('farm', {
      tasks: [
        { id: 'a', resources: { cpu: 1 }, affinity: pref('sms') },
        { id: 'b', resources: { cpu: 1 }, affinity: pref('camera') },
      ],
    });
    const snapshot = { now: 0, pending: [batch], running: [], ants: devices };
    const greedy = schedulePass(snapshot, [affinity()]).decisions;
    const optimal = schedulePass(snapshot, [affinity({ batch: 'hungarian' })]).decisions;
    expect(place(greedy, 'farm')).toEqual(['d1', 'd2']);
    expect(place(optimal, 'farm')).toEqual(['d2', 'd1']);
  });
});

describe('hungarian', () => {
  it("solves SciPy's linear_sum_assignment example: rows to columns 1, 0, 2 at cost 5", () => {
    expect(
      hungarian([
        [4, 1, 3],
        [2, 0, 5],
        [3, 2, 2],
      ]),
    ).toEqual({ assignment: [1, 0, 2], total: 5 });
  });
  it('handles rectangular matrices and forbidden pairs', () => {
    expect(
      hungarian([
        [Number.POSITIVE_INFINITY, 2, 9],
        [1, Number.POSITIVE_INFINITY, 9],
      ]),
    ).toEqual({ assignment: [1, 0], total: 3 });
    expect(hungarian([[Number.POSITIVE_INFINITY], [Number.POSITIVE_INFINITY]].slice(0, 1)).assignment).toEqual([-1]);
    expect(() => hungarian([[1], [2]])).toThrow(/columns/);
  });
});

describe('resources', () => {
  it('first fit takes the first ant that fits', () => {
    const ants = [ant('a', { cpu: 1 }), ant('b', { cpu: 8 }), ant('c', { cpu: 3 })];
    expect(
      place(
        schedulePass({ now: 0, pending: [job('j', { cpu: 2 })], running: [], ants }, [resourcesFit({ fit: 'first-fit' })]).decisions,
        'j',
      ),
    ).toEqual(['b']);
  });
  it('measures fragmentation: free capacity stranded where a reference task does not fit', () => {
    const states = [
      { capacity: { cpu: 4 }, free: { cpu: 1 } },
      { capacity: { cpu: 4 }, free: { cpu: 1 } },
      { capacity: { cpu: 4 }, free: { cpu: 2 } },
    ];
    expect(fragmentation(states, { cpu: 2 })).toBe(0.5);
    expect(fragmentation(states, { cpu: 1 })).toBe(0);
    expect(fragmentation([{ capacity: { cpu: 4 }, free: { cpu: 0 } }], { cpu: 1 })).toBe(0);
  });
  it('best fit leaves less fragmentation than worst fit on the same stream', () => {
    const stream = [3, 1, 3, 1, 2, 2, 1, 3].map((cpu, i) => job(`j${i}`, { cpu, submittedAt: i }));
    const ants = Array.from({ length: 4 }, (_, i) => ant(`a${i}`, { cpu: 4 }));
    const frag = (fit: 'best-fit' | 'worst-fit') => {
      const { decisions } = schedulePass({ now: 0, pending: stream.slice(0, 5), running: [], ants }, [fcfs(), resourcesFit({ fit })]);
      const free = new Map(ants.map((a) => [a.id, 4]));
      for (const d of decisions)
        if (d.kind === 'place') free.set(d.placement.antId, free.get(d.placement.antId)! - (d.placement.resources.cpu ?? 0));
      return fragmentation(
        [...free.values()].map((cpu) => ({ capacity: { cpu: 4 }, free: { cpu } })),
        { cpu: 3 },
      );
    };
    expect(frag('best-fit')).toBeLessThan(frag('worst-fit'));
  });
});

describe('delay scheduling', () => {
  const ants = [ant('n1', { cpu: 1 }, { rack: 'r1' }), ant('n2', { cpu: 1 }, { rack: 'r1' }), ant('n3', { cpu: 1 }, { rack: 'r2' })];
  const busyN1 = [
    { id: 'x', jobId: 'x', taskId: 'x', antId: 'n1', jobType: 'w', tenant: 't', priority: 0, resources: { cpu: 1 }, startedAt: 0 },
  ];
  const local = job('local', { submittedAt: 0, tasks: [{ id: 't', resources: { cpu: 1 }, preferredAnts: ['n1'] }] });
  const plugins = [delay({ nodeDelay: 100, rackDelay: 300 })];
  it('waits for the preferred ant, then its rack, then takes any', () => {
    const at = (now: number) => schedulePass({ now, pending: [local], running: busyN1, ants }, plugins).decisions;
    expect(at(50)[0]).toMatchObject({ kind: 'hold', reason: expect.stringMatching(/^delay: waiting up to 100 ms/) });
    expect(place(at(150), 'local')).toEqual(['n2']);
    const rackBusy = [...busyN1, { ...busyN1[0]!, id: 'y', antId: 'n2' }];
    expect(schedulePass({ now: 150, pending: [local], running: rackBusy, ants }, plugins).decisions[0]).toMatchObject({ kind: 'hold' });
    expect(place(schedulePass({ now: 350, pending: [local], running: rackBusy, ants }, plugins).decisions, 'local')).toEqual(['n3']);
  });
  it('takes the preferred ant at once when it is free', () => {
    expect(place(schedulePass({ now: 0, pending: [local], running: [], ants }, plugins).decisions, 'local')).toEqual(['n1']);
  });
});

describe('gang', () => {
  const gangJob = (id: string, n: number, cpu: number, extra: Partial<PendingJob> = {}) =>
    job(id, { gang: true, tasks: Array.from({ length: n }, (_, i) => ({ id: `${id}.${i}`, resources: { cpu } })), ...extra });
  it('reserves every task at once', () => {
    const { decisions } = schedulePass(
      { now: 0, pending: [gangJob('g', 3, 2)], running: [], ants: [ant('a', { cpu: 4 }), ant('b', { cpu: 2 })] },
      [gang()],
    );
    expect(decisions).toContainEqual(expect.objectContaining({ kind: 'reserve-gang', jobId: 'g' }));
    expect(place(decisions, 'g').sort()).toEqual(['a', 'a', 'b']);
  });
  it('reserves none when one task cannot be placed, releasing the others for later jobs', () => {
    const ants = [ant('a', { cpu: 5 }), ant('b', { cpu: 5 })];
    const { decisions } = schedulePass(
      { now: 0, pending: [gangJob('g', 3, 3, { submittedAt: 0 }), job('small', { cpu: 4, submittedAt: 1 })], running: [], ants },
      [fcfs(), gang()],
    );
    expect(place(decisions, 'g')).toEqual([]);
    expect(decisions.find((d) => 'jobId' in d && d.jobId === 'g')).toMatchObject({
      kind: 'hold',
      reason: expect.stringMatching(/^task g\.2: no ant has resources cpu=3/),
    });
    expect(started(decisions)).toEqual(['small']);
  });
  it('backs off attempts x step, at most maxWait, and pre-checks the total', () => {
    const { decisions } = schedulePass(
      { now: 1_000, pending: [gangJob('g', 3, 4, { scheduleAttempts: 2 })], running: [], ants: [ant('a', { cpu: 4 })] },
      [gang({ step: 5_000, maxWait: 12_000 })],
    );
    expect(decisions[0]).toMatchObject({
      kind: 'hold',
      retryAt: 13_000,
      reason: expect.stringMatching(/^gang: the cluster has not cpu=12 free/),
    });
  });
});

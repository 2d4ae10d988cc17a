import { describe, expect, it } from 'vitest';
import {
  BUILTIN_PROFILES,
  generateWorkload,
  parseProfile,
  parseWorkload,
  type SimJob,
  seriesOf,
  simulate,
  summarise,
  WorkloadError,
} from '../src/index.js';

const profile = (name: string) => parseProfile(BUILTIN_PROFILES[name]!);

describe('simulate', () => {
  it('runs every job once, never more cpu at a time than the cluster has, and replays identically', () => {
    const workload = generateWorkload({ jobs: 400, ants: 4, seed: 9, gangShare: 0.2, failures: 2 });
    const result = simulate(workload, profile('fair-drf'));
    expect(result.jobs.filter((j) => j.end !== undefined)).toHaveLength(400);
    const edges = result.attempts.flatMap((a) => [
      [a.start, a.cpu],
      [a.end, -a.cpu],
    ]);
    edges.sort((x, y) => x[0]! - y[0]! || x[1]! - y[1]!);
    let busy = 0;
    for (const [, delta] of edges) {
      busy += delta!;
      expect(busy).toBeLessThanOrEqual(result.totalCpu);
    }
    expect(simulate(workload, profile('fair-drf')).startOrder).toEqual(result.startOrder);
  });

  it('loses the attempts of a failed ant and runs them again elsewhere', () => {
    const jobs: SimJob[] = [{ id: 'j', arrival: 0, duration: 100, resources: { cpu: 1 }, tenant: 't' }];
    const ants = [
      { id: 'a', capacity: { cpu: 1 } },
      { id: 'b', capacity: { cpu: 1 } },
    ];
    const result = simulate({ jobs, ants, failures: [{ antId: 'a', at: 50, until: 500 }] }, profile('fcfs'));
    expect(result.attempts.map((a) => [a.antId, a.outcome, a.start, a.end])).toEqual([
      ['a', 'lost', 0, 50],
      ['b', 'done', 50, 150],
    ]);
    expect(summarise(result)).toMatchObject({ wastedCpuSeconds: 0.05, completed: 1 });
  });

  it('backs up a straggler; the first copy to finish wins and the other is stopped', () => {
    const history: SimJob[] = Array.from({ length: 6 }, (_, i) => ({
      id: `h${i}`,
      arrival: i * 10,
      duration: 10,
      resources: { cpu: 1 },
      tenant: 't',
    }));
    const straggler: SimJob = { id: 's', arrival: 100, duration: 10, straggle: 10, resources: { cpu: 1 }, tenant: 't' };
    const result = simulate(
      {
        jobs: [...history, straggler],
        ants: [
          { id: 'a', capacity: { cpu: 1 } },
          { id: 'b', capacity: { cpu: 1 } },
        ],
      },
      profile('speculative'),
      { watch: 5 },
    );
    const attempts = result.attempts.filter((a) => a.jobId === 's');
    expect(attempts.map((a) => [a.speculative, a.outcome])).toEqual([
      [false, 'speculation-lost'],
      [true, 'done'],
    ]);
    expect(result.jobs.find((j) => j.id === 's')!.end).toBeLessThan(200);
  });

  it('preempts after the grace period and starts the urgent job', () => {
    const jobs: SimJob[] = [
      { id: 'low', arrival: 0, duration: 1_000, resources: { cpu: 1 }, tenant: 't', priority: 0 },
      { id: 'high', arrival: 10, duration: 5, resources: { cpu: 1 }, tenant: 't', priority: 9 },
    ];
    const preempting = parseProfile('plugins:\n  - priority\n  - preemption: { grace: 20 }\n');
    const result = simulate({ jobs, ants: [{ id: 'a', capacity: { cpu: 1 } }] }, preempting);
    expect(result.startOrder).toEqual(['low', 'high', 'low']);
    expect(result.jobs.find((j) => j.id === 'high')!.start).toBe(30);
    expect(summarise(result).preemptions).toBe(1);
  });

  it('polls a sensor until its condition holds, and gives up past its bound', () => {
    const sensor = (readyOnPoll: number): SimJob => ({
      id: 's',
      arrival: 0,
      duration: 1,
      resources: { cpu: 1 },
      tenant: 't',
      readyOnPoll,
      pollInterval: 10,
      maxPolls: 3,
    });
    const plugins = parseProfile('plugins: [fcfs, sensors]');
    const ants = [{ id: 'a', capacity: { cpu: 1 } }];
    expect(simulate({ jobs: [sensor(3)], ants }, plugins).jobs[0]).toMatchObject({ end: 23 });
    expect(simulate({ jobs: [sensor(9)], ants }, plugins).jobs[0]).toMatchObject({ gaveUp: 'sensor gave up after 3 polls (bound 3)' });
  });

  it('with a tick, runs fewer passes and still finishes every job', () => {
    const workload = generateWorkload({ jobs: 500, ants: 4, seed: 2 });
    const every = simulate(workload, profile('fcfs'));
    const ticked = simulate(workload, profile('fcfs'), { tick: 5_000 });
    expect(ticked.counters.passes).toBeLessThan(every.counters.passes);
    expect(ticked.jobs.every((j) => j.end !== undefined)).toBe(true);
  });

  it('reports progress and chart series', () => {
    const calls: number[] = [];
    const result = simulate(generateWorkload({ jobs: 2_000, ants: 8, seed: 1 }), profile('fcfs'), {
      onProgress: (done) => calls.push(done),
    });
    expect(calls).toEqual([1000, 2000, 2000]);
    const series = seriesOf([result], { points: 10, buckets: 5 });
    expect(series.waitCdf).toHaveLength(11);
    expect(series.waitCdf.at(-1)!.fraction).toBe(1);
    expect(series.utilisation).toHaveLength(5);
    for (const u of series.utilisation) expect(u.utilisation).toBeLessThanOrEqual(1 + 1e-9);
  });
});

describe('workload files', () => {
  it('reads CSV with durations and relative deadlines, and JSON with ants and failures', () => {
    const csv = parseWorkload('arrival,duration,cpu,tenant,deadline\n5s,1m,2,acme,2m\n0,500,1,globex,\n', 'w.csv');
    expect(csv.jobs).toEqual([
      { id: 'j1', arrival: 0, duration: 500, resources: { cpu: 1 }, tenant: 'globex' },
      { id: 'j0', arrival: 5_000, duration: 60_000, resources: { cpu: 2 }, tenant: 'acme', deadline: 125_000 },
    ]);
    const json = parseWorkload(
      JSON.stringify({
        ants: [{ id: 'a', capacity: { cpu: 2 } }],
        jobs: [{ arrival: 0, duration: '1s' }],
        failures: [{ antId: 'a', at: 5, until: '1m' }],
      }),
      'w.json',
    );
    expect(json).toMatchObject({
      ants: [{ id: 'a' }],
      failures: [{ antId: 'a', at: 5, until: 60_000 }],
      jobs: [{ id: 'j0', duration: 1_000, tenant: 'default' }],
    });
  });
  it('names the line and column of bad rows, and unknown columns', () => {
    expect(() => parseWorkload('arrival,duration,cpu\n0,10,1\n0,-5,1\n', 'w.csv')).toThrow(
      new WorkloadError("w.csv:3:2: duration: '-5' is not a duration (use e.g. 500ms, 30s, 5m, 1h30m)"),
    );
    expect(() => parseWorkload('arrival,duration,colour\n', 'w.csv')).toThrow(/^w\.csv:1: unknown column\(s\) colour/);
    expect(() => parseWorkload('{"jobs": [{"arrival": 0}]}', 'w.json')).toThrow(/^w\.json: jobs\.0\.duration: /);
  });
});

import { seededRandom } from '../framework/random.js';
import type { AntFailure, SimAnt, SimJob, Workload } from './workload.js';

export interface GeneratorOptions {
  readonly jobs: number;
  readonly seed?: number;
  /** poisson: steady; bursty: the rate alternates between 4x and 0.25x the mean in long spells. */
  readonly arrivals?: 'poisson' | 'bursty';
  /** Offered load: busy cpu over total cpu, on average. Above 1 the queue grows without bound. */
  readonly load?: number;
  readonly ants?: number;
  readonly antCpu?: number;
  readonly antMemory?: number;
  /** Tenant name -> weight; jobs are spread evenly over tenants unless `skew` is set. */
  readonly tenants?: Readonly<Record<string, number>>;
  /** The first tenant submits this share of all jobs (a noisy neighbour). */
  readonly skew?: number;
  /** exponential, or pareto (heavy tail, shape 1.5, same mean). */
  readonly durations?: 'exponential' | 'pareto';
  readonly meanDuration?: number;
  /** Share of jobs with a deadline, at `slack` x their duration after arrival. */
  readonly deadlineShare?: number;
  readonly slack?: number;
  /** Share of jobs that are gangs of 2 to 4 tasks. */
  readonly gangShare?: number;
  /** Share of jobs whose first attempt straggles (3x to 10x). */
  readonly stragglerShare?: number;
  /** Ant failures over the run, each lasting about 5 mean durations. */
  readonly failures?: number;
  /** Priorities drawn from 0..maxPriority. */
  readonly maxPriority?: number;
}

/** Synthetic workloads, seeded: the same options always give the same jobs. */
export function generateWorkload(options: GeneratorOptions): Workload {
  const random = seededRandom(options.seed ?? 1);
  const n = options.jobs;
  const antCount = options.ants ?? 20;
  const antCpu = options.antCpu ?? 8;
  const antMemory = options.antMemory ?? 32;
  const load = options.load ?? 0.85;
  const meanDuration = options.meanDuration ?? 60_000;
  const tenants = Object.entries(options.tenants ?? { acme: 1, globex: 1, initech: 1 });
  const cpuMix = [1, 1, 1, 2, 2, 4];
  const meanCpu = cpuMix.reduce((a, b) => a + b, 0) / cpuMix.length;
  const gangShare = options.gangShare ?? 0;
  const meanWidth = 1 + gangShare * 2;
  const rate = (load * antCount * antCpu) / (meanCpu * meanWidth * meanDuration);
  const exponential = (mean: number) => -Math.log(1 - random()) * mean;
  const duration = () => {
    if (options.durations === 'pareto') {
      const shape = 1.5;
      const scale = (meanDuration * (shape - 1)) / shape;
      return scale / (1 - random()) ** (1 / shape);
    }
    return exponential(meanDuration);
  };
  const ants: SimAnt[] = Array.from({ length: antCount }, (_, i) => ({
    id: `ant-${String(i).padStart(3, '0')}`,
    capacity: { cpu: antCpu, memory: antMemory },
    labels: { rack: `r${i % 4}` },
  }));
  const jobs: SimJob[] = [];
  let clock = 0;
  let burst = false;
  let spellEnds = 0;
  for (let i = 0; i < n; i++) {
    if (options.arrivals === 'bursty') {
      if (clock >= spellEnds) {
        burst = !burst;
        spellEnds = clock + exponential(meanDuration * (burst ? 5 : 20));
      }
      clock += exponential(1 / (rate * (burst ? 4 : 0.25)));
    } else clock += exponential(1 / rate);
    const tenant =
      options.skew !== undefined && random() < options.skew ? tenants[0]![0] : tenants[Math.floor(random() * tenants.length)]![0];
    const cpu = cpuMix[Math.floor(random() * cpuMix.length)]!;
    const runtime = Math.max(1, Math.round(duration()));
    const arrival = Math.round(clock);
    const gang = random() < gangShare;
    jobs.push({
      id: `j${i}`,
      arrival,
      duration: runtime,
      resources: { cpu, memory: cpu * (1 + Math.floor(random() * 4)) },
      tenant,
      user: `${tenant}-u${Math.floor(random() * 3)}`,
      jobType: `type-${cpu}`,
      priority: Math.floor(random() * ((options.maxPriority ?? 0) + 1)),
      estimatedRuntime: Math.round(runtime * (0.5 + random())),
      ...(random() < (options.deadlineShare ?? 0) && { deadline: arrival + Math.round(runtime * (options.slack ?? 3)) }),
      ...(gang && { tasks: 2 + Math.floor(random() * 3) }),
      ...(random() < (options.stragglerShare ?? 0) && { straggle: 3 + random() * 7 }),
    });
  }
  const failures: AntFailure[] = Array.from({ length: options.failures ?? 0 }, () => {
    const at = Math.round(random() * clock);
    return { antId: ants[Math.floor(random() * ants.length)]!.id, at, until: at + Math.round(exponential(meanDuration * 5)) };
  });
  return { jobs, ants, failures, weights: Object.fromEntries(tenants) };
}

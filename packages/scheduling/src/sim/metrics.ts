import { jainIndex } from '../plugins/fair-share.js';
import type { SimResult } from './engine.js';

export interface Summary {
  readonly profile: string;
  readonly jobs: number;
  readonly completed: number;
  readonly gaveUp: number;
  readonly wait: Stats;
  readonly turnaround: Stats;
  /** Mean of turnaround / duration. */
  readonly slowdown: number;
  /** Busy cpu over total cpu, from the first arrival to the last finish. */
  readonly utilisation: number;
  readonly fragmentation: number;
  /** Jain's index over tenants of 1 / mean slowdown: 1 when every tenant waits in proportion alike. */
  readonly jain: number;
  readonly deadlineMissRate: number;
  /** The longest wait of any job (started or not). */
  readonly starvation: number;
  readonly preemptions: number;
  readonly speculativeLaunches: number;
  /** cpu x seconds of attempts that did not count (preempted, lost with an ant, losing speculative copies). */
  readonly wastedCpuSeconds: number;
  /** Mean absolute error of the wait estimate made at arrival, ms, and its median. */
  readonly estimateError: { readonly mean: number; readonly median: number };
  readonly passes: number;
}

export interface Stats {
  readonly mean: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export function stats(values: readonly number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  const mean = sorted.length === 0 ? 0 : sorted.reduce((a, b) => a + b, 0) / sorted.length;
  return { mean, p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), max: sorted[sorted.length - 1] ?? 0 };
}

/** The metrics of one simulated run. */
export function summarise(result: SimResult): Summary {
  const done = result.jobs.filter((j) => j.end !== undefined && j.start !== undefined);
  const horizonEnd = result.attempts.reduce((max, a) => Math.max(max, a.end), 0);
  const horizonStart = result.jobs.reduce((min, j) => Math.min(min, j.arrival), Number.POSITIVE_INFINITY);
  const busy = result.attempts.reduce((sum, a) => sum + (a.end - a.start) * a.cpu, 0);
  const span = Math.max(1, horizonEnd - horizonStart);
  const slowdowns = done.map((j) => (j.end! - j.arrival) / Math.max(1, j.duration));
  const perTenant = new Map<string, number[]>();
  for (const [i, j] of done.entries()) {
    const list = perTenant.get(j.tenant) ?? [];
    perTenant.set(j.tenant, list);
    list.push(slowdowns[i]!);
  }
  const withDeadline = result.jobs.filter((j) => j.deadline !== undefined);
  const missed = withDeadline.filter((j) => j.end === undefined || j.end > j.deadline!);
  const waits = result.jobs.map((j) => (j.start ?? horizonEnd) - j.arrival);
  const errors = done.map((j) => Math.abs(j.estimate - (j.start! - j.arrival))).sort((a, b) => a - b);
  const frag = result.fragmentation.map(([, f]) => f);
  return {
    profile: result.profile,
    jobs: result.jobs.length,
    completed: done.length,
    gaveUp: result.jobs.filter((j) => j.gaveUp).length,
    wait: stats(done.map((j) => j.start! - j.arrival)),
    turnaround: stats(done.map((j) => j.end! - j.arrival)),
    slowdown: slowdowns.length === 0 ? 0 : slowdowns.reduce((a, b) => a + b, 0) / slowdowns.length,
    utilisation: result.totalCpu > 0 ? busy / (result.totalCpu * span) : 0,
    fragmentation: frag.length === 0 ? 0 : frag.reduce((a, b) => a + b, 0) / frag.length,
    jain: jainIndex([...perTenant.values()].map((s) => s.length / s.reduce((a, b) => a + b, 0))),
    deadlineMissRate: withDeadline.length === 0 ? 0 : missed.length / withDeadline.length,
    starvation: waits.reduce((max, w) => Math.max(max, w), 0),
    preemptions: result.counters.preemptions,
    speculativeLaunches: result.counters.speculativeLaunches,
    wastedCpuSeconds: result.counters.wastedCpuMs / 1_000,
    estimateError: { mean: errors.length === 0 ? 0 : errors.reduce((a, b) => a + b, 0) / errors.length, median: quantile(errors, 0.5) },
    passes: result.counters.passes,
  };
}

import type { SimResult } from './engine.js';

/** What the report draws, as plain rows (one row per point), so any charting library can take it. */
export interface Series {
  readonly waitCdf: { profile: string; wait: number; fraction: number }[];
  readonly utilisation: { profile: string; time: number; utilisation: number }[];
  readonly tenantShare: { profile: string; time: number; tenant: string; share: number }[];
  readonly gantt: { profile: string; ant: string; start: number; end: number; tenant: string; outcome: string }[];
}

export interface SeriesOptions {
  readonly points?: number;
  readonly buckets?: number;
  /** The Gantt shows at most this many ants and attempts, from the start of the run. */
  readonly ganttAnts?: number;
  readonly ganttAttempts?: number;
}

/** Turns runs into chart rows: wait-time CDFs, utilisation and per-tenant cpu share over time, and a Gantt. */
export function seriesOf(results: readonly SimResult[], options: SeriesOptions = {}): Series {
  const points = options.points ?? 200;
  const buckets = options.buckets ?? 100;
  const series: Series = { waitCdf: [], utilisation: [], tenantShare: [], gantt: [] };
  for (const result of results) {
    const profile = result.profile;
    const waits = result.jobs.flatMap((j) => (j.start === undefined ? [] : [j.start - j.arrival])).sort((a, b) => a - b);
    for (let p = 0; p <= points && waits.length > 0; p++) {
      const index = Math.min(waits.length - 1, Math.round((p / points) * (waits.length - 1)));
      series.waitCdf.push({ profile, wait: waits[index]! / 1_000, fraction: (index + 1) / waits.length });
    }
    const start = result.jobs.reduce((min, j) => Math.min(min, j.arrival), Number.POSITIVE_INFINITY);
    const end = result.attempts.reduce((max, a) => Math.max(max, a.end), start + 1);
    const width = (end - start) / buckets;
    const busy = new Float64Array(buckets);
    const byTenant = new Map<string, Float64Array>();
    for (const a of result.attempts) {
      const perTenant = byTenant.get(a.tenant) ?? new Float64Array(buckets);
      byTenant.set(a.tenant, perTenant);
      const first = Math.max(0, Math.floor((a.start - start) / width));
      const last = Math.min(buckets - 1, Math.floor((a.end - start) / width));
      for (let b = first; b <= last; b++) {
        const overlap = Math.min(a.end, start + (b + 1) * width) - Math.max(a.start, start + b * width);
        if (overlap <= 0) continue;
        busy[b]! += overlap * a.cpu;
        perTenant[b]! += overlap * a.cpu;
      }
    }
    for (let b = 0; b < buckets; b++) {
      const time = (start + (b + 0.5) * width) / 1_000;
      series.utilisation.push({ profile, time, utilisation: result.totalCpu > 0 ? busy[b]! / (result.totalCpu * width) : 0 });
      for (const [tenant, used] of byTenant)
        series.tenantShare.push({ profile, time, tenant, share: busy[b]! > 0 ? used[b]! / busy[b]! : 0 });
    }
    const ants = [...new Set(result.attempts.map((a) => a.antId))].sort().slice(0, options.ganttAnts ?? 16);
    const shown = new Set(ants);
    for (const a of result.attempts.filter((x) => shown.has(x.antId)).slice(0, options.ganttAttempts ?? 400)) {
      series.gantt.push({ profile, ant: a.antId, start: a.start / 1_000, end: a.end / 1_000, tenant: a.tenant, outcome: a.outcome });
    }
  }
  return series;
}

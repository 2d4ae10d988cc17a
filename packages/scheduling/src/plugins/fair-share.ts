import { z } from 'zod';
import type { LaneGroup, PassContext, Plugin } from '../framework/plugin.js';
import type { PendingJob, Resources } from '../model.js';
import { dominantShare } from '../resources.js';
import { weights } from './duration.js';

export const fairShareOptions = z.strictObject({
  /** Whose share is balanced: tenants (organisations), or users inside whatever level is above. */
  by: z.enum(['tenant', 'user', 'jobType']).default('tenant'),
  /**
   * maxmin: weighted max-min on one resource; drf: Dominant Resource Fairness (Ghodsi et al. 2011);
   * drr: deficit round robin on a job's cost; lottery: tickets = weight, drawn with the seeded generator.
   */
  policy: z.enum(['maxmin', 'drf', 'drr', 'lottery']).default('drf'),
  /** The resource max-min balances. */
  resource: z.string().default('cpu'),
  weights: weights.default({}),
  /** Deficit round robin: credit a group earns per round, per unit of weight (in cost units: cpu x seconds). */
  quantum: z.number().positive().default(1),
});
export type FairShareOptions = z.input<typeof fairShareOptions>;

const keyOf = (by: 'tenant' | 'user' | 'jobType') => (job: PendingJob) =>
  by === 'tenant' ? job.tenant : by === 'user' ? `${job.tenant}/${job.user ?? '-'}` : job.jobType;

const accountKey = (by: 'tenant' | 'user' | 'jobType', key: string) =>
  by === 'tenant' ? `tenant:${key}` : by === 'user' ? `user:${key}` : `type:${key}`;

const demandOf = (job: PendingJob): Resources => {
  const sum: Record<string, number> = {};
  for (const task of job.tasks) for (const key in task.resources) sum[key] = (sum[key] ?? 0) + (task.resources[key] ?? 0);
  return sum;
};

/** Fair share across tenants, users or job types: a lane level that picks whose job goes next. */
export function fairShare(raw: FairShareOptions = {}): Plugin {
  const { by, policy, resource, weights: weightOf, quantum } = fairShareOptions.parse(raw);
  const weight = (key: string) => weightOf[key] ?? 1;
  const share = (key: string, context: PassContext) => {
    const used = context.allocated(accountKey(by, key));
    if (policy === 'drf') return dominantShare(used, context.total) / weight(key);
    const total = context.total[resource] ?? 0;
    return (total > 0 ? (used[resource] ?? 0) / total : 0) / weight(key);
  };
  const lowest = (groups: readonly LaneGroup[], context: PassContext) => {
    let best = 0;
    let bestShare = Number.POSITIVE_INFINITY;
    groups.forEach((group, i) => {
      const s = share(group.key, context);
      if (s < bestShare || (s === bestShare && group.head.submittedAt < groups[best]!.head.submittedAt)) {
        bestShare = s;
        best = i;
      }
    });
    return best;
  };
  const drrState = (context: PassContext) =>
    context.carry(`fair-share:${by}:drr`, () => ({ deficits: {} as Record<string, number>, cursor: 0, credited: false }));
  const cost = (job: PendingJob, context: PassContext) => {
    const runtime = job.estimatedRuntime ?? context.meanRuntime(job.jobType) ?? 1_000;
    return Math.max(1e-9, (demandOf(job)[resource] ?? 1) * (runtime / 1_000));
  };
  const choose = (groups: readonly LaneGroup[], context: PassContext): number => {
    if (policy === 'maxmin' || policy === 'drf') return lowest(groups, context);
    if (policy === 'lottery') {
      const tickets = groups.map((g) => weight(g.key));
      let draw = context.random() * tickets.reduce((a, b) => a + b, 0);
      for (let i = 0; i < tickets.length; i++) {
        draw -= tickets[i]!;
        if (draw < 0) return i;
      }
      return tickets.length - 1;
    }
    // Deficit round robin (Shreedhar & Varghese 1995): visit groups in turn; arriving at a group credits it
    // quantum x weight; it is served while its deficit covers its head's cost, then the turn passes.
    const state = drrState(context);
    const present = new Set(groups.map((g) => g.key));
    for (const key of Object.keys(state.deficits)) if (!present.has(key)) delete state.deficits[key];
    const sorted = [...groups.keys()].sort((a, b) => (groups[a]!.key < groups[b]!.key ? -1 : 1));
    const credit = (key: string, rounds: number) => {
      state.deficits[key] = (state.deficits[key] ?? 0) + rounds * quantum * weight(key);
    };
    for (let visits = 0; ; visits++) {
      if (visits === sorted.length) {
        // A whole cycle served nobody: add at once the rounds the closest group still needs, to every group.
        const rounds = Math.min(
          ...groups.map((g) => Math.ceil((cost(g.head, context) - (state.deficits[g.key] ?? 0)) / (quantum * weight(g.key)))),
        );
        for (const g of groups) credit(g.key, Math.max(0, rounds - 1));
      }
      const index = sorted[state.cursor % sorted.length]!;
      const group = groups[index]!;
      if (!state.credited) {
        credit(group.key, 1);
        state.credited = true;
      }
      if ((state.deficits[group.key] ?? 0) >= cost(group.head, context)) return index;
      state.cursor++;
      state.credited = false;
    }
  };
  return {
    name: `fair-share:${by}`,
    lane: {
      key: keyOf(by),
      choose,
      served: (key, job, _placements, context) => {
        if (policy !== 'drr') return;
        const state = drrState(context);
        state.deficits[key] = (state.deficits[key] ?? 0) - cost(job, context);
      },
    },
  };
}

/**
 * Dominant Resource Fairness by progressive filling (Ghodsi et al., NSDI 2011): repeatedly give one task to
 * the user with the lowest dominant share whose next task still fits. Returns tasks per user.
 */
export function drfAllocate(capacity: Resources, demands: readonly Resources[], userWeights?: readonly number[]): number[] {
  const counts = demands.map(() => 0);
  const used: Record<string, number> = {};
  const consumed = demands.map(() => ({}) as Record<string, number>);
  const blocked = demands.map(() => false);
  for (;;) {
    let pick = -1;
    let lowest = Number.POSITIVE_INFINITY;
    demands.forEach((_, i) => {
      if (blocked[i]) return;
      const s = dominantShare(consumed[i]!, capacity) / (userWeights?.[i] ?? 1);
      if (s < lowest) {
        lowest = s;
        pick = i;
      }
    });
    if (pick < 0) return counts;
    const demand = demands[pick]!;
    const fitsAll = Object.keys(demand).every((k) => (used[k] ?? 0) + (demand[k] ?? 0) <= (capacity[k] ?? 0) + 1e-9);
    if (!fitsAll || Object.values(demand).every((v) => v === 0)) {
      blocked[pick] = true;
      continue;
    }
    for (const k in demand) {
      used[k] = (used[k] ?? 0) + (demand[k] ?? 0);
      consumed[pick]![k] = (consumed[pick]![k] ?? 0) + (demand[k] ?? 0);
    }
    counts[pick]!++;
  }
}

/**
 * DRF with divisible tasks, the model in which Ghodsi et al. prove its properties: every user's dominant share
 * rises together until a resource it uses runs out; then it stops. Returns tasks per user (fractional).
 */
export function drfShares(capacity: Resources, demands: readonly Resources[]): number[] {
  const perTask = demands.map((d) => dominantShare(d, capacity));
  const shares = demands.map(() => 0);
  const used: Record<string, number> = {};
  let active = demands.map((_, i) => i).filter((i) => perTask[i]! > 0);
  let level = 0;
  while (active.length > 0) {
    const rate: Record<string, number> = {};
    for (const i of active) for (const key in demands[i]) rate[key] = (rate[key] ?? 0) + (demands[i]![key] ?? 0) / perTask[i]!;
    let step = Number.POSITIVE_INFINITY;
    for (const key in rate) if (rate[key]! > 0) step = Math.min(step, ((capacity[key] ?? 0) - (used[key] ?? 0)) / rate[key]!);
    level += step;
    for (const key in rate) used[key] = (used[key] ?? 0) + step * rate[key]!;
    for (const i of active) shares[i] = level;
    const saturated = Object.keys(rate).filter((key) => rate[key]! > 0 && (used[key] ?? 0) >= (capacity[key] ?? 0) * (1 - 1e-12));
    active = active.filter((i) => !saturated.some((key) => (demands[i]![key] ?? 0) > 0));
  }
  return shares.map((share, i) => (perTask[i]! > 0 ? share / perTask[i]! : 0));
}

/** Weighted max-min fair shares of one divisible resource (water filling): nobody gets more than it asks. */
export function maxMinShares(capacity: number, demands: readonly number[], userWeights?: readonly number[]): number[] {
  const shares = demands.map(() => 0);
  let left = capacity;
  let active = demands.map((_, i) => i).filter((i) => demands[i]! > 0);
  while (left > 1e-12 && active.length > 0) {
    const totalWeight = active.reduce((sum, i) => sum + (userWeights?.[i] ?? 1), 0);
    const unit = left / totalWeight;
    const satisfied = active.filter((i) => demands[i]! - shares[i]! <= unit * (userWeights?.[i] ?? 1) + 1e-12);
    if (satisfied.length === 0) {
      for (const i of active) shares[i] = shares[i]! + unit * (userWeights?.[i] ?? 1);
      return shares;
    }
    for (const i of satisfied) {
      left -= demands[i]! - shares[i]!;
      shares[i] = demands[i]!;
    }
    active = active.filter((i) => !satisfied.includes(i));
  }
  return shares;
}

/** Jain's fairness index (Jain, Chiu & Hawe 1984): 1 when all equal, 1/n when one has everything. */
export function jainIndex(values: readonly number[]): number {
  if (values.length === 0) return 1;
  const sum = values.reduce((a, b) => a + b, 0);
  const squares = values.reduce((a, b) => a + b * b, 0);
  return squares === 0 ? 1 : (sum * sum) / (values.length * squares);
}

import { z } from 'zod';
import type { PassContext, Plugin } from '../framework/plugin.js';
import type { PendingJob, RunningAttempt } from '../model.js';
import { accumulate, fits, format } from '../resources.js';
import { duration, resources } from './duration.js';
import { victimOrder } from './preemption.js';
import { chooseVictims } from './victims.js';

const queueOptions = z.strictObject({
  parent: z.string().optional(),
  /** Resources the queue is promised; it may always reclaim them. */
  guaranteed: resources.default({}),
  /** Hard limit: never more, even when the cluster is idle. */
  max: resources.optional(),
  /** Soft limit: above it, the queue is served only after every queue under its own soft limit. */
  softMax: resources.optional(),
  /** Consumption allowed per period (resource x ms, e.g. cpu-ms), from the snapshot's usage ledger `queue:<name>`. */
  quota: resources.optional(),
  period: duration.optional(),
});

export const capacityOptions = z
  .strictObject({
    queues: z.record(z.string(), queueOptions),
    /** Reclaim borrowed capacity by preempting attempts of queues above their guarantee. */
    reclaim: z.boolean().default(true),
    grace: duration.default(30_000),
  })
  .superRefine((o, ctx) => {
    for (const [name, q] of Object.entries(o.queues)) {
      if (q.parent !== undefined && !(q.parent in o.queues))
        ctx.addIssue({ code: 'custom', path: ['queues', name, 'parent'], message: `unknown parent queue '${q.parent}'` });
      if ((q.quota === undefined) !== (q.period === undefined))
        ctx.addIssue({ code: 'custom', path: ['queues', name, 'quota'], message: 'quota and period go together' });
      const seen = new Set<string>();
      for (let at: string | undefined = name; at !== undefined; at = o.queues[at]?.parent) {
        if (seen.has(at)) {
          ctx.addIssue({ code: 'custom', path: ['queues', name, 'parent'], message: `queue '${name}' is its own ancestor` });
          break;
        }
        seen.add(at);
      }
    }
  });
export type CapacityOptions = z.input<typeof capacityOptions>;

/**
 * Capacity scheduling (as in Hadoop's CapacityScheduler): hierarchical queues with guaranteed and maximum
 * shares, elastic borrowing up to the maximum, reclaim of borrowed capacity by preemption, hard and soft
 * limits, and consumption quotas that reset every period.
 */
export function capacity(raw: CapacityOptions): Plugin {
  const options = capacityOptions.parse(raw);
  const { queues } = options;
  const children = new Map<string, string[]>();
  for (const [name, q] of Object.entries(queues)) if (q.parent) children.set(q.parent, [...(children.get(q.parent) ?? []), name]);
  const subtree = (name: string): string[] => [name, ...(children.get(name) ?? []).flatMap(subtree)];
  const ancestors = (name: string): string[] => {
    const chain: string[] = [];
    for (let at: string | undefined = name; at !== undefined; at = queues[at]?.parent) chain.push(at);
    return chain;
  };
  const usage = (name: string, context: PassContext) => {
    const sum: Record<string, number> = {};
    for (const member of subtree(name)) accumulate(sum, context.allocated(`queue:${member}`));
    return sum;
  };
  const demand = (job: PendingJob) => {
    const sum: Record<string, number> = {};
    for (const task of job.tasks) accumulate(sum, task.resources);
    return sum;
  };
  const queueOf = (job: { queue?: string }) => job.queue ?? 'default';
  const ratio = (name: string, context: PassContext) => {
    const used = usage(name, context);
    const guaranteed = queues[name]?.guaranteed ?? {};
    let r = 0;
    for (const key in used) r = Math.max(r, (used[key] ?? 0) / Math.max(1e-9, guaranteed[key] ?? 0));
    return r;
  };
  const overSoft = (name: string, context: PassContext) => {
    const soft = queues[name]?.softMax;
    return soft !== undefined && !fits(usage(name, context), soft);
  };
  return {
    name: 'capacity',
    lane: {
      key: queueOf,
      choose: (groups, context) => {
        let best = 0;
        let bestKey: [number, number] = [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY];
        groups.forEach((g, i) => {
          const key: [number, number] = [overSoft(g.key, context) ? 1 : 0, ratio(g.key, context)];
          if (key[0] < bestKey[0] || (key[0] === bestKey[0] && key[1] < bestKey[1])) {
            bestKey = key;
            best = i;
          }
        });
        return best;
      },
    },
    admit: (job, context) => {
      const name = queueOf(job);
      if (!(name in queues)) return { reason: `held: unknown queue '${name}'`, giveUp: true };
      const need = demand(job);
      for (const at of ancestors(name)) {
        const q = queues[at]!;
        if (q.max) {
          const after = usage(at, context);
          accumulate(after, need);
          if (!fits(after, q.max))
            return { reason: `held: queue ${at} at its maximum ${format(q.max)} (using ${format(usage(at, context))})` };
        }
        if (q.quota && q.period !== undefined) {
          const ledger = context.snapshot.usage?.[`queue:${at}`];
          if (ledger && context.now < ledger.periodStart + q.period && exhausted(q.quota, ledger.consumed)) {
            return {
              reason: `held: queue ${at} used its quota ${format(q.quota)} for this period`,
              retryAt: ledger.periodStart + q.period,
            };
          }
        }
      }
      return undefined;
    },
    ...(options.reclaim && {
      postFilter: (job, context) => {
        const name = queueOf(job);
        const guaranteed = queues[name]?.guaranteed ?? {};
        const after = usage(name, context);
        accumulate(after, demand(job));
        // Only a queue still within its guarantee may take capacity back.
        if (!fits(after, guaranteed)) return undefined;
        const borrowing = (attempt: RunningAttempt) => {
          const q = queueOf(attempt);
          return q !== name && !fits(usage(q, context), queues[q]?.guaranteed ?? {});
        };
        const choice = chooseVictims(
          job,
          context,
          borrowing,
          victimOrder,
          `reclaimed by queue ${name} (within its guarantee)`,
          options.grace,
        );
        if (!choice) return undefined;
        return {
          decisions: choice.decisions,
          hold: {
            reason: `reclaiming ${choice.decisions.length} borrowed attempt(s) for queue ${name}`,
            retryAt: context.now + options.grace,
          },
        };
      },
    }),
  };
}

/** True once any quota'd resource has been consumed up to its quota. */
function exhausted(quota: Readonly<Record<string, number>>, consumed: Readonly<Record<string, number>>): boolean {
  return Object.keys(quota).some((key) => (consumed[key] ?? 0) >= (quota[key] ?? 0));
}

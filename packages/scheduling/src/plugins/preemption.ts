import { z } from 'zod';
import type { Plugin } from '../framework/plugin.js';
import type { RunningAttempt } from '../model.js';
import { duration } from './duration.js';
import { chooseVictims } from './victims.js';

export const preemptionOptions = z.strictObject({
  /** Time a victim gets to stop cleanly before it is killed. */
  grace: duration.default(30_000),
  /** A job preempts only attempts at least this much lower in priority. */
  minGap: z.number().positive().default(1),
});
export type PreemptionOptions = z.input<typeof preemptionOptions>;

const QOS_ORDER = { 'best-effort': 0, burstable: 1, guaranteed: 2 } as const;

/** Victims: best effort before burstable before guaranteed, then lowest priority, then newest (least work lost). */
export const victimOrder = (a: RunningAttempt, b: RunningAttempt) =>
  QOS_ORDER[a.qos ?? 'burstable'] - QOS_ORDER[b.qos ?? 'burstable'] || a.priority - b.priority || b.startedAt - a.startedAt;

/** Priority preemption (the post-filter of the Kubernetes framework): a job that fits nowhere stops lower-priority attempts. */
export function preemption(raw: PreemptionOptions = {}): Plugin {
  const { grace, minGap } = preemptionOptions.parse(raw);
  return {
    name: 'preemption',
    postFilter: (job, context) => {
      const choice = chooseVictims(
        job,
        context,
        (a) => a.priority <= job.priority - minGap,
        victimOrder,
        `preempted by job ${job.id} (priority ${job.priority})`,
        grace,
      );
      if (!choice) return undefined;
      const reason = choice.alreadyFreeing
        ? 'waiting for preempted attempts to stop'
        : `preempting ${choice.decisions.length} lower-priority attempt(s)`;
      return {
        decisions: choice.decisions,
        hold: { reason, retryAt: context.now + (choice.alreadyFreeing ? Math.min(grace, 1_000) : grace) },
      };
    },
  };
}

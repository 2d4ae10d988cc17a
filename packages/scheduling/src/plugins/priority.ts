import { z } from 'zod';
import type { Plugin } from '../framework/plugin.js';
import type { PendingJob } from '../model.js';
import { duration } from './duration.js';

export const priorityOptions = z.strictObject({
  /** Aging: every `interval` waited adds `step` to the priority... */
  aging: z
    .strictObject({
      interval: duration,
      step: z.number().positive().default(1),
      /** ...and a job that has waited `maxWait` goes before every job that has not (oldest first): the wait bound. */
      maxWait: duration.optional(),
    })
    .optional(),
  /**
   * Formicary's degradation of jobs that keep failing to schedule: every `every`-th attempt lowers the
   * priority by one while above `above`. It only reorders; a degraded job never bypasses a limit.
   */
  degrade: z.strictObject({ every: z.number().int().positive().default(5), above: z.number().default(5) }).optional(),
});
export type PriorityOptions = z.input<typeof priorityOptions>;

/** The priority a job has after waiting until `now`. */
export function effectivePriority(job: PendingJob, now: number, aging: z.output<typeof priorityOptions>['aging']): number {
  if (!aging) return job.priority;
  const waited = Math.max(0, now - job.submittedAt);
  return job.priority + Math.floor(waited / aging.interval) * aging.step;
}

/** Higher priority first; with aging, waiting raises a job's priority and `maxWait` bounds its wait. */
export function priority(raw: PriorityOptions = {}): Plugin {
  const options = priorityOptions.parse(raw);
  const { aging, degrade } = options;
  return {
    name: 'priority',
    volatileSort: aging !== undefined,
    queueSort: (a, b, { now }) => {
      if (aging?.maxWait !== undefined) {
        const starvedA = now - a.submittedAt >= aging.maxWait;
        const starvedB = now - b.submittedAt >= aging.maxWait;
        if (starvedA !== starvedB) return starvedA ? -1 : 1;
        if (starvedA) return a.submittedAt - b.submittedAt;
      }
      return effectivePriority(b, now, aging) - effectivePriority(a, now, aging);
    },
    ...(degrade && {
      backoff: (job, hold) => {
        const attempts = (job.scheduleAttempts ?? 0) + 1;
        const current = hold.priority ?? job.priority;
        if (attempts % degrade.every === 0 && current > degrade.above) return { ...hold, priority: current - 1 };
        return undefined;
      },
    }),
  };
}

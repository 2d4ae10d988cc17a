import { z } from 'zod';
import type { Plugin } from '../framework/plugin.js';
import type { Resources } from '../model.js';
import { accumulate, fits, format } from '../resources.js';
import { duration } from './duration.js';

export const gangOptions = z.strictObject({
  /** Backoff after a failed reservation: attempts x step, at most maxWait (Formicary's rule). */
  step: duration.default(5_000),
  maxWait: duration.default(60_000),
});
export type GangOptions = z.input<typeof gangOptions>;

/**
 * Gang scheduling: a job marked `gang` gets all of its tasks reserved in one pass or none (the framework
 * places its tasks tentatively and rolls them all back if one fails). This plugin adds a cheap pre-check
 * on the cluster's total free resources and the backoff.
 */
export function gang(raw: GangOptions = {}): Plugin {
  const { step, maxWait } = gangOptions.parse(raw);
  return {
    name: 'gang',
    preFilter: (job, context) => {
      if (!job.gang || job.tasks.length < 2) return undefined;
      const need: Record<string, number> = {};
      for (const task of job.tasks) accumulate(need, task.resources);
      const free: Record<string, number> = {};
      for (const state of context.ants) if (state.ant.schedulable !== false) accumulate(free, state.free as Resources);
      return fits(need, free) ? undefined : { reason: `gang: the cluster has not ${format(need)} free for all ${job.tasks.length} tasks` };
    },
    backoff: (job, hold, context) => {
      if (!job.gang) return undefined;
      const attempts = (job.scheduleAttempts ?? 0) + 1;
      return { ...hold, retryAt: context.now + Math.min(maxWait, attempts * step) };
    },
  };
}

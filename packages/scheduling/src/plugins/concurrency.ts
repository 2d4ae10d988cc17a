import { z } from 'zod';
import type { Hold, Plugin } from '../framework/plugin.js';
import type { PendingJob } from '../model.js';
import { duration } from './duration.js';

export const concurrencyOptions = z.strictObject({
  /** Running jobs at once per organisation (tenant), per user, and per tenant-specific overrides. */
  tenant: z.number().int().positive().optional(),
  user: z.number().int().positive().optional(),
  perTenant: z.record(z.string(), z.number().int().positive()).default({}),
  /** Wait before retrying: a quarter of the job type's mean runtime, clamped to [minDelay, maxDelay], plus up to as much jitter. */
  minDelay: duration.default(15_000),
  maxDelay: duration.default(60_000),
  /** Formicary lowers a held job's priority to max(1, ln p); it only reorders, it never lets a job past a limit. */
  degrade: z.boolean().default(true),
});
export type ConcurrencyOptions = z.input<typeof concurrencyOptions>;

/**
 * Formicary's fair-scheduling limits: organisation, then user, then job type (`max_concurrency`).
 * Unlike Formicary's, a degraded priority never bypasses a limit (its priority-0 escape valve let
 * any job with priority 1 through, since ln 1 = 0).
 */
export function concurrencyLimits(raw: ConcurrencyOptions = {}): Plugin {
  const options = concurrencyOptions.parse(raw);
  const held = (
    job: PendingJob,
    what: string,
    running: number,
    limit: number,
    context: Parameters<NonNullable<Plugin['admit']>>[1],
  ): Hold => {
    const mean = context.meanRuntime(job.jobType) ?? 0;
    const base = Math.min(Math.max(mean / 4, options.minDelay), options.maxDelay);
    const retryAt = context.now + base + Math.floor(context.random() * base);
    const priority = options.degrade && job.priority > 1 ? Math.max(1, Math.floor(Math.log(job.priority))) : job.priority;
    return { reason: `held: ${what} at concurrency ${running}/${limit}`, retryAt, priority };
  };
  return {
    name: 'concurrency-limits',
    admit: (job, context) => {
      const tenantLimit = options.perTenant[job.tenant] ?? options.tenant;
      const tenantRunning = context.count(`tenant:${job.tenant}`);
      if (tenantLimit !== undefined && tenantRunning >= tenantLimit)
        return held(job, `tenant ${job.tenant}`, tenantRunning, tenantLimit, context);
      if (options.user !== undefined && job.user !== undefined) {
        const running = context.count(`user:${job.tenant}/${job.user}`);
        if (running >= options.user) return held(job, `user ${job.user}`, running, options.user, context);
      }
      if (job.maxConcurrency !== undefined) {
        const running = context.count(`type:${job.jobType}`);
        if (running >= job.maxConcurrency) return held(job, `job type ${job.jobType}`, running, job.maxConcurrency, context);
      }
      return undefined;
    },
  };
}

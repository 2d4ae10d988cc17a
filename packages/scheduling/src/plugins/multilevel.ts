import { z } from 'zod';
import type { PassContext, Plugin } from '../framework/plugin.js';
import type { PendingJob } from '../model.js';
import { duration, weights } from './duration.js';

export const multilevelOptions = z
  .strictObject({
    /** What sorts a job into a queue: its `queue`, job type, first tag found in `order`, user, or expected duration. */
    by: z.enum(['queue', 'jobType', 'tag', 'user', 'duration']).default('queue'),
    /** fixed: a queue runs only when every queue before it in `order` is empty; weighted: time slicing by `weights`. */
    policy: z.enum(['fixed', 'weighted']).default('fixed'),
    /** Queue names, highest first; queues not listed go after, by name. */
    order: z.array(z.string()).default([]),
    weights: weights.default({}),
    /** For by: duration: class name -> upper bound of expected runtime, e.g. { short: 1m, medium: 1h }; longer is 'long'. */
    classes: z.record(z.string(), duration).default({}),
  })
  .refine((o) => o.policy !== 'weighted' || Object.keys(o.weights).length > 0, {
    message: 'policy weighted needs weights',
    path: ['weights'],
  });
export type MultilevelOptions = z.input<typeof multilevelOptions>;

/** Multilevel queues: a lane level by queue class, with fixed priority between queues or weighted time slicing. */
export function multilevel(raw: MultilevelOptions = {}): Plugin {
  const options = multilevelOptions.parse(raw);
  const classes = Object.entries(options.classes).sort((a, b) => a[1] - b[1]);
  const rank = (key: string) => {
    const index = options.order.indexOf(key);
    return index < 0 ? options.order.length : index;
  };
  const key = (job: PendingJob): string => {
    switch (options.by) {
      case 'queue':
        return job.queue ?? 'default';
      case 'jobType':
        return job.jobType;
      case 'user':
        return job.user ?? 'default';
      case 'tag':
        return options.order.find((tag) => job.tags?.includes(tag)) ?? job.tags?.[0] ?? 'default';
      case 'duration': {
        const runtime = job.estimatedRuntime ?? Number.POSITIVE_INFINITY;
        return classes.find(([, bound]) => runtime <= bound)?.[0] ?? 'long';
      }
    }
  };
  const served = (context: PassContext) => context.carry('multilevel', () => ({}) as Record<string, number>);
  return {
    name: 'multilevel',
    lane: {
      key,
      choose: (groups, context) => {
        if (options.policy === 'fixed') {
          let best = 0;
          groups.forEach((g, i) => {
            const [r, rb] = [rank(g.key), rank(groups[best]!.key)];
            if (r < rb || (r === rb && g.key < groups[best]!.key)) best = i;
          });
          return best;
        }
        // Weighted time slicing: the queue that has had the least service per unit of weight goes next.
        const counts = served(context);
        let best = 0;
        let lowest = Number.POSITIVE_INFINITY;
        groups.forEach((g, i) => {
          const s = (counts[g.key] ?? 0) / (options.weights[g.key] ?? 1);
          if (s < lowest) {
            lowest = s;
            best = i;
          }
        });
        return best;
      },
      served: (laneKey, job, _placements, context) => {
        const counts = served(context);
        counts[laneKey] = (counts[laneKey] ?? 0) + (job.estimatedRuntime ?? 1);
      },
    },
  };
}

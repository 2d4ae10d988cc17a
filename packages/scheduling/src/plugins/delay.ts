import { z } from 'zod';
import type { Plugin } from '../framework/plugin.js';
import { duration } from './duration.js';

export const delayOptions = z.strictObject({
  /** How long a task waits for one of its preferred ants (node locality)... */
  nodeDelay: duration,
  /** ...then, up to this total wait, for an ant in a preferred ant's rack (label `rackLabel`); then any ant. */
  rackDelay: duration.optional(),
  rackLabel: z.string().default('rack'),
});
export type DelayOptions = z.input<typeof delayOptions>;

/**
 * Delay scheduling (Zaharia et al., EuroSys 2010): a task with preferred ants skips other ants until it has
 * waited `nodeDelay`, then accepts its preferred racks until `rackDelay`, then any ant: locality, with a bound.
 */
export function delay(raw: DelayOptions): Plugin {
  const { nodeDelay, rackDelay, rackLabel } = delayOptions.parse(raw);
  return {
    name: 'delay',
    filter: (job, task, state, context) => {
      const preferred = task.preferredAnts;
      if (!preferred || preferred.length === 0 || preferred.includes(state.ant.id)) return undefined;
      const waited = context.now - job.submittedAt;
      if (waited < nodeDelay) return `delay: waiting up to ${nodeDelay} ms for a preferred ant`;
      if (rackDelay !== undefined && waited < rackDelay) {
        const rack = state.ant.labels?.[rackLabel];
        const racks = new Set(context.ants.filter((s) => preferred.includes(s.ant.id)).map((s) => s.ant.labels?.[rackLabel]));
        if (rack === undefined || !racks.has(rack)) return `delay: waiting up to ${rackDelay} ms for a preferred rack`;
      }
      return undefined;
    },
  };
}

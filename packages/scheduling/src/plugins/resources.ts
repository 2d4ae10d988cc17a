import { z } from 'zod';
import type { AntState, Plugin } from '../framework/plugin.js';
import type { Ant, Resources } from '../model.js';
import { fits } from '../resources.js';

export const resourcesOptions = z.strictObject({
  /** first-fit: the first ant in list order; best-fit: the one left fullest; worst-fit: the one left emptiest. */
  fit: z.enum(['first-fit', 'best-fit', 'worst-fit']).default('best-fit'),
  weight: z.number().positive().default(1),
});
export type ResourcesOptions = z.input<typeof resourcesOptions>;

/** The mean, over the resources a task asks for, of the fraction of the ant left free after placing it. */
function leftover(request: Resources, state: AntState): number {
  let sum = 0;
  let n = 0;
  for (const key in request) {
    const capacity = state.capacity[key] ?? 0;
    if (capacity <= 0) continue;
    sum += ((state.free[key] ?? 0) - (request[key] ?? 0)) / capacity;
    n++;
  }
  return n === 0 ? 1 : Math.max(0, Math.min(1, sum / n));
}

/** Bin packing: scores ants for a task by how they fit it. Capacity itself is always checked by the framework. */
export function resourcesFit(raw: ResourcesOptions = {}): Plugin {
  const { fit, weight } = resourcesOptions.parse(raw);
  return {
    name: 'resources',
    weight,
    score: (_job, task, state, context) => {
      if (fit === 'first-fit') return 100 * (1 - state.index / Math.max(1, context.ants.length));
      const left = leftover(task.resources, state);
      return fit === 'best-fit' ? 100 * (1 - left) : 100 * left;
    },
  };
}

/**
 * External fragmentation: the share of free capacity (of `resource`) that sits on ants where a task asking
 * `reference` no longer fits. 0: every free unit is usable; 1: none is.
 */
export function fragmentation(
  ants: readonly { readonly capacity: Resources; readonly free: Resources; readonly ant?: Ant }[],
  reference: Resources,
  resource = 'cpu',
): number {
  let free = 0;
  let stranded = 0;
  for (const state of ants) {
    const amount = Math.max(0, state.free[resource] ?? 0);
    free += amount;
    if (!fits(reference, state.free)) stranded += amount;
  }
  return free === 0 ? 0 : stranded / free;
}

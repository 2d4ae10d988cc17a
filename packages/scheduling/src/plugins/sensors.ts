import { z } from 'zod';
import type { Plugin } from '../framework/plugin.js';

export const sensorOptions = z.strictObject({
  /** A sensor that has not been given its own `maxPolls` stops after this many. */
  maxPolls: z.number().int().positive().default(20),
});
export type SensorOptions = z.input<typeof sensorOptions>;

/**
 * Polling sensors: a task whose exit routes to EXECUTING comes back to the queue (with `notBefore` set to the
 * next poll) instead of finishing. This plugin bounds the loop: past its polls, the job is given up on, so no
 * sensor polls forever.
 */
export function sensors(raw: SensorOptions = {}): Plugin {
  const options = sensorOptions.parse(raw);
  return {
    name: 'sensors',
    admit: (job) => {
      if (job.polls === undefined) return undefined;
      const bound = job.maxPolls ?? options.maxPolls;
      return job.polls >= bound ? { reason: `sensor gave up after ${job.polls} polls (bound ${bound})`, giveUp: true } : undefined;
    },
  };
}

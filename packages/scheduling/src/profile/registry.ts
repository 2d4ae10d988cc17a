import type { z } from 'zod';
import type { Plugin } from '../framework/plugin.js';
import { affinity, affinityOptions } from '../plugins/affinity.js';
import { capacity, capacityOptions } from '../plugins/capacity.js';
import { concurrencyLimits, concurrencyOptions } from '../plugins/concurrency.js';
import { delay, delayOptions } from '../plugins/delay.js';
import { edf, edfOptions } from '../plugins/edf.js';
import { fairShare, fairShareOptions } from '../plugins/fair-share.js';
import { fcfs } from '../plugins/fcfs.js';
import { gang, gangOptions } from '../plugins/gang.js';
import { multilevel, multilevelOptions } from '../plugins/multilevel.js';
import { preemption, preemptionOptions } from '../plugins/preemption.js';
import { priority, priorityOptions } from '../plugins/priority.js';
import { resourcesFit, resourcesOptions } from '../plugins/resources.js';
import { sensorOptions, sensors } from '../plugins/sensors.js';
import { sjf } from '../plugins/sjf.js';
import { speculative, speculativeOptions } from '../plugins/speculative.js';
import { taintOptions, taints } from '../plugins/taints.js';

interface Entry {
  readonly options?: z.ZodType;
  readonly make: (options: never) => Plugin;
}

/** Every plugin a profile may name, with the schema of its options. */
export const PLUGINS: Readonly<Record<string, Entry>> = {
  fcfs: { make: fcfs },
  priority: { options: priorityOptions, make: priority },
  sjf: { make: sjf },
  edf: { options: edfOptions, make: edf },
  multilevel: { options: multilevelOptions, make: multilevel },
  'fair-share': { options: fairShareOptions, make: fairShare },
  'concurrency-limits': { options: concurrencyOptions, make: concurrencyLimits },
  capacity: { options: capacityOptions, make: capacity },
  resources: { options: resourcesOptions, make: resourcesFit },
  affinity: { options: affinityOptions, make: affinity },
  taints: { options: taintOptions, make: taints },
  delay: { options: delayOptions, make: delay },
  gang: { options: gangOptions, make: gang },
  preemption: { options: preemptionOptions, make: preemption },
  speculative: { options: speculativeOptions, make: speculative },
  sensors: { options: sensorOptions, make: sensors },
};

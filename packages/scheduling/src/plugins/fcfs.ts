import type { Plugin } from '../framework/plugin.js';

/** First come, first served: submission order. */
export function fcfs(): Plugin {
  return { name: 'fcfs', queueSort: (a, b) => a.submittedAt - b.submittedAt };
}

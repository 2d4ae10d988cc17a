import type { PassContext, Plugin } from '../framework/plugin.js';
import type { PendingJob } from '../model.js';

/** The runtime a job is expected to take: its own `estimated_runtime`, else its type's mean, else unknown (last). */
export function expectedRuntime(job: PendingJob, context: PassContext): number {
  return job.estimatedRuntime ?? context.meanRuntime(job.jobType) ?? Number.POSITIVE_INFINITY;
}

/** Shortest job first: the least expected runtime goes first (non-preemptive). */
export function sjf(): Plugin {
  return {
    name: 'sjf',
    volatileSort: 'history',
    queueSort: (a, b, context) => {
      const [ra, rb] = [expectedRuntime(a, context), expectedRuntime(b, context)];
      return ra === rb ? 0 : ra < rb ? -1 : 1;
    },
  };
}

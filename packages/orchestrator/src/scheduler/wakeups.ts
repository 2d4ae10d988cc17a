import type { TimelineEvent } from '../domain/types.js';

/**
 * What committed transitions ask of the scheduler (issue 11: at a steady 100 jobs/s every change
 * started a whole pass, three per job, and the CPU per job was 2.5x a burst's):
 * - `work`: something may have become due or ready (a submit, a task made ready by a finished one,
 *   a retry, a restart): a pass is needed;
 * - `freed`: only ends (an attempt, a task or a job finished): a slot or a max_concurrency place
 *   may be free, which matters only if the last pass left work it could not start;
 * - `none`: only what a scheduler pass does itself (admissions, which that same pass then
 *   dispatches, and claims), or nothing.
 */
export type Wake = 'work' | 'freed' | 'none';

/** States a transition into frees a place without making anything runnable (a pause stops the job's tasks). */
const ENDS: ReadonlySet<string> = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'SKIPPED', 'PAUSED']);

/** A pure judgement of one commit's (or one notification's) timeline rows; see `Wake`. Anything unknown is `work`. */
export function wakeFor(events: readonly TimelineEvent[]): Wake {
  // A job's PENDING -> READY is always an admission, and the tasks it readies are dispatched by the
  // pass that admitted it; a task readied in a commit that admits no job (a step of a DAG) is new work.
  const admitted = new Set<string>();
  for (const event of events)
    if (event.taskType === undefined && event.from === 'PENDING' && event.to === 'READY') admitted.add(event.jobId);
  let wake: Wake = 'none';
  for (const event of events) {
    if (event.from === 'READY' && event.to === 'EXECUTING') continue;
    if (event.from === 'PENDING' && event.to === 'READY' && admitted.has(event.jobId)) continue;
    if (!ENDS.has(event.to)) return 'work';
    wake = 'freed';
  }
  return wake;
}

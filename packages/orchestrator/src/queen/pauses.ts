import { SupervisorError } from '../engine/supervisor.js';
import { PAUSED_BY_TASK } from '../engine/verdict.js';
import type { JobStore } from '../store/store.js';

/** How many paused jobs one sweep looks at; the rest wait for the next. */
const PAGE = 500;

/**
 * Resumes jobs a PAUSE_JOB route paused, once the pausing task's delay has passed. Any queen's
 * scheduler pass may run it and none keeps a timer: the task's `notBefore` in the store says when,
 * and the resume is a compare-and-set on the job, so of two queens sweeping at once one resumes and
 * the other finds the job no longer PAUSED. A job paused by hand is never resumed here.
 */
export class PausedJobs {
  private lastSweep = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly store: JobStore,
    private readonly resume: (jobId: string) => Promise<void>,
    /** At most one sweep per this many ms, however often the scheduler passes. */
    private readonly everyMs = 1000,
  ) {}

  /** Returns the jobs this call resumed. */
  async sweep(now: number): Promise<readonly string[]> {
    if (now - this.lastSweep < this.everyMs) return [];
    this.lastSweep = now;
    const resumed: string[] = [];
    const { items } = await this.store.listJobs({ state: 'PAUSED', limit: PAGE });
    const found = await this.store.jobsWithTasks(items.map((job) => job.id));
    for (const [jobId, { tasks }] of found) {
      const due = tasks.some((t) => t.state === 'READY' && t.reason?.startsWith(PAUSED_BY_TASK) === true && (t.notBefore ?? 0) <= now);
      if (!due) continue;
      try {
        await this.resume(jobId);
        resumed.push(jobId);
      } catch (error) {
        // Another queen resumed it first, or it was cancelled meanwhile.
        if (!(error instanceof SupervisorError && error.code === 'conflict')) throw error;
      }
    }
    return resumed;
  }
}

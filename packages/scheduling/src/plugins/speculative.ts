import { z } from 'zod';
import type { Plugin } from '../framework/plugin.js';
import type { PendingJob, RunningAttempt } from '../model.js';

export const speculativeOptions = z.strictObject({
  /** A straggler runs past this percentile of its job type's past runtimes... */
  percentile: z.number().min(1).max(100).default(90),
  /** ...and at least this many past runs are known. */
  minHistory: z.number().int().positive().default(5),
  /** Only while this fraction of the cluster's cpu is free (a job's own `speculativeBackup.resourceThreshold` wins). */
  resourceThreshold: z.number().min(0).max(1).default(0),
  /** At most this many backups started per pass. */
  maxPerPass: z.number().int().positive().default(10),
});
export type SpeculativeOptions = z.input<typeof speculativeOptions>;

/** The p-th percentile (nearest rank) of `values`. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** When an attempt counts as a straggler, or undefined if it cannot tell. */
export function stragglerAfter(
  attempt: RunningAttempt,
  history: readonly number[] | undefined,
  p: number,
  minHistory: number,
  cache?: Map<readonly number[], number>,
): number | undefined {
  if (attempt.speculativeBackup) {
    const expected =
      attempt.estimatedRuntime ?? (history && history.length > 0 ? history.reduce((a, b) => a + b, 0) / history.length : undefined);
    return expected === undefined ? undefined : expected * attempt.speculativeBackup.delayThreshold;
  }
  if (!history || history.length < minHistory) return undefined;
  let threshold = cache?.get(history);
  if (threshold === undefined) {
    threshold = percentile(history, p);
    cache?.set(history, threshold);
  }
  return threshold;
}

/**
 * Speculative execution (as in MapReduce and LATE): a straggler gets one backup attempt on another ant
 * when resources allow. Which copy wins is the store's job: the first to finish, the other is stopped and
 * its late result rejected.
 */
export function speculative(raw: SpeculativeOptions = {}): Plugin {
  const options = speculativeOptions.parse(raw);
  return {
    name: 'speculative',
    background: (context, place) => {
      const decisions: ReturnType<NonNullable<Plugin['background']>> = [];
      const thresholds = new Map<readonly number[], number>();
      const backedUp = new Set(
        context
          .running()
          .filter((a) => a.speculative)
          .map((a) => a.taskId),
      );
      const totalCpu = context.total.cpu ?? 0;
      let freeCpu = 0;
      for (const state of context.ants) if (state.ant.schedulable !== false) freeCpu += Math.max(0, state.free.cpu ?? 0);
      for (const attempt of context.running()) {
        if (decisions.length >= options.maxPerPass) break;
        if (attempt.speculative || attempt.terminating || backedUp.has(attempt.taskId) || context.victims.has(attempt.id)) continue;
        const after = stragglerAfter(
          attempt,
          context.snapshot.history?.[attempt.jobType],
          options.percentile,
          options.minHistory,
          thresholds,
        );
        if (after === undefined || context.now - attempt.startedAt <= after) continue;
        const threshold = attempt.speculativeBackup?.resourceThreshold ?? options.resourceThreshold;
        if (totalCpu > 0 && freeCpu / totalCpu < threshold) continue;
        const job: PendingJob = {
          id: attempt.jobId,
          jobType: attempt.jobType,
          tenant: attempt.tenant,
          priority: attempt.priority,
          submittedAt: attempt.startedAt,
          tasks: [{ id: attempt.taskId, resources: attempt.resources }],
        };
        const state = place(job, job.tasks[0]!, attempt.antId);
        if (!state) continue;
        freeCpu -= attempt.resources.cpu ?? 0;
        backedUp.add(attempt.taskId);
        decisions.push({ kind: 'speculate', attemptId: attempt.id, antId: state.ant.id, resources: attempt.resources });
      }
      return decisions;
    },
  };
}

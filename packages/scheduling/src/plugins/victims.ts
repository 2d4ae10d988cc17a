import type { AntState, PassContext } from '../framework/plugin.js';
import type { Decision, PendingJob, RunningAttempt } from '../model.js';
import { accumulate, fits } from '../resources.js';

export interface VictimChoice {
  readonly decisions: Decision[];
  /** Ants where stopping attempts already terminating is enough: nothing new to preempt. */
  readonly alreadyFreeing: boolean;
}

/**
 * The fewest attempts to stop so that each of the job's tasks fits on some ant: per task, the ant needing the
 * fewest victims (ties: the least work lost), victims taken in `rank` order among `eligible` ones.
 */
export function chooseVictims(
  job: PendingJob,
  context: PassContext,
  eligible: (attempt: RunningAttempt) => boolean,
  rank: (a: RunningAttempt, b: RunningAttempt) => number,
  reason: string,
  graceMs: number,
): VictimChoice | undefined {
  const decisions: Decision[] = [];
  const chosen = new Set<string>();
  let alreadyFreeing = true;
  for (const task of job.tasks) {
    let best: { state: AntState; victims: RunningAttempt[]; lost: number } | undefined;
    for (const state of context.ants) {
      if (state.ant.schedulable === false) continue;
      const free: Record<string, number> = { ...state.free };
      // Attempts already told to stop will free their share without new victims.
      for (const a of state.attempts) if (a.terminating || context.victims.has(a.id) || chosen.has(a.id)) accumulate(free, a.resources);
      if (fits(task.resources, free)) {
        if (!best || best.victims.length > 0) best = { state, victims: [], lost: 0 };
        break;
      }
      const candidates = state.attempts
        .filter((a) => !a.terminating && !context.victims.has(a.id) && !chosen.has(a.id) && eligible(a))
        .sort(rank);
      const victims: RunningAttempt[] = [];
      for (const attempt of candidates) {
        victims.push(attempt);
        accumulate(free, attempt.resources);
        if (fits(task.resources, free)) break;
      }
      if (!fits(task.resources, free)) continue;
      const lost = victims.reduce((sum, v) => sum + (context.now - v.startedAt), 0);
      if (!best || victims.length < best.victims.length || (victims.length === best.victims.length && lost < best.lost)) {
        best = { state, victims, lost };
      }
    }
    if (!best) return undefined;
    if (best.victims.length > 0) alreadyFreeing = false;
    for (const victim of best.victims) {
      chosen.add(victim.id);
      decisions.push({ kind: 'preempt', attemptId: victim.id, reason, graceMs, forJobId: job.id });
    }
  }
  for (const id of chosen) context.victims.add(id);
  return { decisions, alreadyFreeing };
}

import { z } from 'zod';
import type { AntState, PassContext, Plugin } from '../framework/plugin.js';
import type { Ant, MatchExpression, PendingJob } from '../model.js';
import { fits } from '../resources.js';
import { hungarian } from './hungarian.js';

export const affinityOptions = z.strictObject({
  weight: z.number().positive().default(1),
  /**
   * Place a multi-task job's tasks together by the Hungarian method (one task per ant, the most preferred
   * total), instead of task by task: the device-farm case, where each ant is one device.
   */
  batch: z.enum(['greedy', 'hungarian']).default('greedy'),
});
export type AffinityOptions = z.input<typeof affinityOptions>;

/** Whether an ant's labels satisfy one Kubernetes match expression. */
export function matches(expression: MatchExpression, labels: Readonly<Record<string, string>> = {}): boolean {
  const value = labels[expression.key];
  const values = expression.values ?? [];
  switch (expression.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      const [have, want] = [Number(value), Number(values[0])];
      if (value === undefined || !Number.isFinite(have) || !Number.isFinite(want)) return false;
      return expression.operator === 'Gt' ? have > want : have < want;
    }
  }
}

export const matchesAll = (terms: readonly MatchExpression[], ant: Ant) => terms.every((e) => matches(e, ant.labels));

/** Required terms are ORed, expressions inside a term ANDed; no terms means any ant. */
export function requiredMatch(terms: readonly (readonly MatchExpression[])[] | undefined, ant: Ant): boolean {
  return !terms || terms.length === 0 || terms.some((term) => matchesAll(term, ant));
}

function preference(job: PendingJob, taskIndex: number, ant: Ant): number {
  const preferred = job.tasks[taskIndex]?.affinity?.preferred ?? [];
  const totalWeight = preferred.reduce((sum, p) => sum + p.weight, 0);
  if (totalWeight === 0) return 0;
  return (100 * preferred.reduce((sum, p) => sum + (matchesAll(p.match, ant) ? p.weight : 0), 0)) / totalWeight;
}

/** Matchmaking: required and preferred affinity on ant labels, anti-affinity by job type, optional optimal batch placement. */
export function affinity(raw: AffinityOptions = {}): Plugin {
  const { weight, batch } = affinityOptions.parse(raw);
  /** Per job examined this pass: the ant the Hungarian method chose for each task. */
  const plans = new WeakMap<PendingJob, Map<string, string>>();
  const plan = (job: PendingJob, context: PassContext) => {
    const candidates = context.ants.filter((s) => s.ant.schedulable !== false);
    const cost = job.tasks.map((task, t) =>
      candidates.map((state) =>
        fits(task.resources, state.free) && requiredMatch(task.affinity?.required, state.ant)
          ? 100 - preference(job, t, state.ant)
          : Number.POSITIVE_INFINITY,
      ),
    );
    if (candidates.length < job.tasks.length) return undefined;
    const { assignment } = hungarian(cost);
    if (assignment.some((j) => j < 0)) return undefined;
    return new Map(job.tasks.map((task, t) => [task.id, candidates[assignment[t]!]!.ant.id]));
  };
  return {
    name: 'affinity',
    weight,
    ...(batch === 'hungarian' && {
      preFilter: (job, context) => {
        if (job.tasks.length < 2) return undefined;
        const chosen = plan(job, context);
        if (!chosen) return { reason: 'affinity: no one-task-per-ant assignment satisfies every task' };
        plans.set(job, chosen);
        return undefined;
      },
    }),
    filter: (job, task, state: AntState) => {
      const planned = plans.get(job)?.get(task.id);
      if (planned !== undefined && planned !== state.ant.id) return 'affinity: another ant is planned for this task';
      if (!requiredMatch(task.affinity?.required, state.ant)) return 'affinity: no ant matches the required labels';
      for (const other of task.affinity?.antiAffinity ?? []) {
        if (state.residents.some((r) => (other === 'self' ? r.jobId === job.id : r.jobType === other)))
          return `anti-affinity: ${other} already runs there`;
      }
      return undefined;
    },
    score: (job, task, state) =>
      preference(
        job,
        job.tasks.findIndex((t) => t.id === task.id),
        state.ant,
      ),
  };
}

import type { JobDefinition } from '../definition/model.js';
import { planJob } from './plan.js';

/**
 * The tasks an admission of a fresh job of `definition` makes READY, when that is all it does whatever the
 * job's parameters: no `skip_if` on the job or its tasks (evaluated per job, in JavaScript), no MANUAL task
 * among them (it waits with an approval SLA), and a plan that starts tasks and ends, skips or cancels none.
 * A store may then admit such jobs on its own, in one statement (`JobStore.admitNext`), as the supervisor
 * would plan each one. Undefined when each admission must be planned by the supervisor.
 */
export function admissionTemplate(definition: JobDefinition): readonly string[] | undefined {
  if (definition.skipIf !== undefined || definition.tasks.some((task) => task.skipIf !== undefined)) return undefined;
  const plan = planJob(definition, { tasks: new Map(definition.tasks.map((task) => [task.taskType, { state: 'PENDING' as const }])) });
  if (plan.start.length === 0 || plan.skip.length > 0 || (plan.fail?.length ?? 0) > 0 || plan.cancel.length > 0 || plan.outcome)
    return undefined;
  const manual = new Set(definition.tasks.filter((task) => task.method === 'MANUAL').map((task) => task.taskType));
  return plan.start.some((taskType) => manual.has(taskType)) ? undefined : plan.start;
}

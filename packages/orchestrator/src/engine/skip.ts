import { renderGoTemplate } from '../definition/gotemplate/render.js';
import type { JobDefinition } from '../definition/model.js';
import type { JobRow, TaskRow } from '../store/store.js';
import { type JobSnapshot, SKIPPED_BY_CONDITION } from './plan.js';
import { flatOutputs } from './render.js';

type JobFields = Pick<JobRow, 'id' | 'jobType' | 'retry' | 'params'>;

/** A rendered `skip_if` holds when it reads `true` (trimmed, any case); skip_if and except are one text, so `true true` holds too. */
function holds(template: string, data: Readonly<Record<string, unknown>>): boolean {
  const words = renderGoTemplate(template, { data }).text.trim().split(/\s+/);
  return words.every((word) => word.toLowerCase() === 'true');
}

/**
 * A job's `skip_if` at admission: rendered as a Go template with the job variables, the request's
 * params over them and the job built-ins, as Formicary's `{{if eq .Target "charlie"}} true {{end}}`
 * is. Returns the reason to skip with, or undefined to run; a value nobody gave makes a condition
 * false (Go's nil). Throws TemplateRenderError when the template cannot be evaluated.
 */
export function jobSkipReason(definition: JobDefinition, job: JobFields): string | undefined {
  if (definition.skipIf === undefined) return undefined;
  const data = { ...definition.jobVariables, ...job.params, JobID: job.id, JobType: job.jobType, JobRetry: job.retry };
  return holds(definition.skipIf, data) ? SKIPPED_BY_CONDITION : undefined;
}

/**
 * Tasks' `skip_if` / `except` for the plan: asked when a task would start, rendered with what its
 * script would see (request params, task and job variables, outputs of finished tasks, built-ins).
 */
export function taskConditions(definition: JobDefinition, job: JobFields, tasks: readonly TaskRow[]): JobSnapshot['condition'] {
  if (!definition.tasks.some((task) => task.skipIf !== undefined)) return undefined;
  return (taskType) => {
    const task = definition.tasks.find((t) => t.taskType === taskType);
    if (task?.skipIf === undefined) return undefined;
    const builtIns = { JobID: job.id, JobType: job.jobType, JobRetry: job.retry, TaskType: taskType };
    const data = { ...builtIns, ...flatOutputs(tasks, taskType), ...definition.jobVariables, ...task.variables, ...job.params };
    try {
      return holds(task.skipIf, data) ? { skip: SKIPPED_BY_CONDITION } : undefined;
    } catch (error) {
      return { fail: `skip_if could not be evaluated: ${error instanceof Error ? error.message : String(error)}` };
    }
  };
}

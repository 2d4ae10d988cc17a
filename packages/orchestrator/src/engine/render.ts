import { renderTemplate, renderValue, type TemplateScope } from '../definition/index.js';
import type { JobDefinition, TaskDefinition } from '../definition/model.js';
import { containerSpecOf } from '../executors/container.js';
import type { TaskSpec } from '../executors/executor.js';
import type { JobRow, TaskRow } from '../store/store.js';
import { forkRequest } from './forks.js';

/** Outputs of finished tasks, flat: when several set a key, the one that finished last wins. */
export function flatOutputs(tasks: readonly TaskRow[], except?: string): Record<string, string> {
  const finished = tasks
    .filter((t) => t.taskType !== except && t.endedAt !== undefined && Object.keys(t.outputs).length > 0)
    .sort((a, b) => a.endedAt!.getTime() - b.endedAt!.getTime());
  return Object.assign({}, ...finished.map((t) => t.outputs)) as Record<string, string>;
}

function renderRecord(record: Readonly<Record<string, string>>, scope: TemplateScope): Record<string, string> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, renderTemplate(value, scope)]));
}

/**
 * The task as an ant runs it: every template rendered from the request params, task and job
 * variables, outputs of finished tasks and the built-ins. Throws TemplateError naming an unknown variable.
 */
export function renderTask(
  definition: JobDefinition,
  task: TaskDefinition,
  job: JobRow,
  tasks: readonly TaskRow[],
  runAttempts: number,
  secrets?: Readonly<Record<string, string>>,
): TaskSpec {
  const scope: TemplateScope = {
    ...(secrets === undefined ? {} : { secrets }),
    params: job.params,
    taskVariables: task.variables,
    jobVariables: definition.jobVariables,
    outputs: flatOutputs(tasks, task.taskType),
    builtIns: {
      JobID: job.id,
      JobType: job.jobType,
      JobRetry: job.retry,
      TaskType: task.taskType,
      TaskRetry: runAttempts - 1,
      ...(definition.semVersion === undefined ? {} : { SemVersion: definition.semVersion }),
    },
  };
  const spec: TaskSpec = {
    method: task.method,
    script: task.script.map((line) => renderTemplate(line, scope)),
    environment: renderRecord(task.environment, scope),
    headers: renderRecord(task.headers, scope),
    query: renderRecord(task.query, scope),
    ...(task.url === undefined ? {} : { url: renderTemplate(task.url, scope) }),
    ...(task.body === undefined ? {} : { body: renderValue(task.body, scope) }),
    ...(task.timeoutMs === undefined ? {} : { timeoutMs: task.timeoutMs }),
    ...(task.messaging === undefined ? {} : { messaging: task.messaging }),
    ...(task.awaitForkedTasks.length === 0 ? {} : { awaitForked: task.awaitForkedTasks }),
    ...(task.reportStdout ? { reportStdout: true } : {}),
  };
  const fork = forkRequest(task, (text) => renderTemplate(text, scope));
  if (fork !== undefined) return { ...spec, fork };
  const container = containerSpecOf(task);
  if (container !== undefined) {
    return {
      ...spec,
      container: {
        ...container,
        beforeScript: container.beforeScript?.map((line) => renderTemplate(line, scope)),
        afterScript: container.afterScript?.map((line) => renderTemplate(line, scope)),
      },
    };
  }
  return spec;
}

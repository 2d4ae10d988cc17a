import { renderTemplate, renderValue, type TemplateScope } from '../definition/index.js';
import type { FanOutSpec, JobDefinition, TaskDefinition } from '../definition/model.js';
import { containerSpecOf } from '../executors/container.js';
import type { FanOutRequest, TaskSpec } from '../executors/executor.js';
import { FAN_OUT_ITEM_KEY } from '../executors/fan-out.js';
import type { JobRow, TaskRow } from '../store/store.js';
import { DEFAULT_ITEM_VAR, fanOutItems, itemLabel, itemScope } from './fan-out.js';
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
  if (task.fanOut !== undefined) {
    const previous = tasks.find((t) => t.taskType === task.taskType)?.outputs ?? {};
    return fanOutSpec(task, task.fanOut, scope, previous);
  }
  return specOf(task, scope);
}

/** The task rendered in one scope (the task's own, or one fan-out child's). */
function specOf(task: TaskDefinition, scope: TemplateScope): TaskSpec {
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

/**
 * A `fan_out` task: one child per item, each rendered with its item in scope. A FORK_JOB task forks
 * one child job per item (the item is also a param of the child); any other method runs the task
 * once per item on the ant that takes it. The task's own fields are not rendered without an item.
 */
function fanOutSpec(task: TaskDefinition, fanOut: FanOutSpec, scope: TemplateScope, previous: Readonly<Record<string, string>>): TaskSpec {
  const { source, items } = fanOutItems(fanOut, scope);
  const itemVar = fanOut.item_var ?? DEFAULT_ITEM_VAR;
  const scopes = items.map((item) => itemScope(scope, itemVar, item, source === 'matrix'));
  const labels = items.map(itemLabel);
  const done = task.method === 'FORK_JOB' ? {} : completedChildren(previous, itemVar, labels);
  const request: FanOutRequest = {
    itemVar,
    source,
    labels,
    ...(Object.keys(done).length === 0 ? {} : { done }),
    ...(fanOut.max_parallel === undefined ? {} : { maxParallel: fanOut.max_parallel }),
    failFast: fanOut.fail_fast ?? false,
    successThreshold: fanOut.success_threshold ?? 100,
  };
  const base: TaskSpec = {
    method: task.method,
    script: [],
    environment: {},
    headers: {},
    query: {},
  };
  if (task.method === 'FORK_JOB') {
    const jobs = items.map((item, index) => {
      const fork = forkRequest(task, (text) => renderTemplate(text, scopes[index]!))!;
      return { ...fork, params: { [itemVar]: item, ...fork.params }, wait: true };
    });
    return { ...base, fanOut: { ...request, jobs } };
  }
  return { ...base, fanOut: { ...request, tasks: scopes.map((itemScoped) => specOf(task, itemScoped)) } };
}

/**
 * Children of a task fan-out that COMPLETED in the task's previous attempt (its outputs, kept on a
 * retry and a soft restart) for the same item at the same index: a new attempt does not run them
 * again. Job fan-outs need no such list: a child job's id already says whether it was made.
 */
function completedChildren(
  previous: Readonly<Record<string, string>>,
  itemVar: string,
  labels: readonly string[],
): Record<number, Record<string, string>> {
  const done: Record<number, Record<string, string>> = {};
  for (const [index, label] of labels.entries()) {
    const prefix = `${itemVar}_${index}_`;
    if (previous[`${prefix}status`] !== 'COMPLETED' || previous[`${prefix}${FAN_OUT_ITEM_KEY}`] !== label) continue;
    done[index] = Object.fromEntries(
      Object.entries(previous)
        .filter(([key]) => key.startsWith(prefix))
        .map(([key, value]) => [key.slice(prefix.length), value]),
    );
  }
  return done;
}

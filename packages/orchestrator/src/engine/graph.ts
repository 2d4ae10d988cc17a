import { routesOf, startTasks } from '../definition/index.js';
import type { JobDefinition, TaskDefinition } from '../definition/model.js';

/** What the engine needs to know about a definition's shape, computed once per definition object. */
export interface JobGraph {
  readonly definition: JobDefinition;
  readonly tasks: ReadonlyMap<string, TaskDefinition>;
  /** For each task, the tasks that may route to it (on_completed, on_failed, on_exit_code). */
  readonly routeSources: ReadonlyMap<string, readonly string[]>;
  /** Tasks that start when the job starts. */
  readonly starts: ReadonlySet<string>;
}

const graphs = new WeakMap<JobDefinition, JobGraph>();

export function graphOf(definition: JobDefinition): JobGraph {
  const cached = graphs.get(definition);
  if (cached) return cached;
  const tasks = new Map(definition.tasks.map((task) => [task.taskType, task]));
  const routeSources = new Map<string, string[]>();
  for (const task of definition.tasks) {
    for (const target of routesOf(task)) routeSources.set(target, [...(routeSources.get(target) ?? []), task.taskType]);
  }
  const graph: JobGraph = { definition, tasks, routeSources, starts: new Set(startTasks(definition)) };
  graphs.set(definition, graph);
  return graph;
}

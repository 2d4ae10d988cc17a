import type { QueenService } from '../queen/service.js';

const cache = new WeakMap<QueenService, Map<string, Promise<readonly string[]>>>();

/**
 * The tags a waiting task (or, without a task type, a job) is placed by: its definition's tags plus
 * the task's. Definition versions never change, so each lookup is cached per queen.
 */
export function tagsOfTask(queen: QueenService, jobType: string, version: number, taskType?: string): Promise<readonly string[]> {
  let byKey = cache.get(queen);
  if (!byKey) {
    byKey = new Map();
    cache.set(queen, byKey);
  }
  const key = `${jobType}\u0000${version}\u0000${taskType ?? ''}`;
  let tags = byKey.get(key);
  if (!tags) {
    tags = queen.definitionVersions(jobType).then((versions) => {
      const definition = versions.find((v) => v.version === version)?.definition;
      if (!definition) return [];
      const task = taskType === undefined ? undefined : definition.tasks.find((t) => t.taskType === taskType);
      return [...new Set([...definition.tags, ...(task?.tags ?? [])])].sort();
    });
    byKey.set(key, tags);
  }
  return tags;
}

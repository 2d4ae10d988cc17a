import type { JobDefinition } from '../definition/model.js';
import type { QueenService } from '../queen/service.js';
import { tenantOf } from '../scheduler/view.js';

const definitions = new WeakMap<QueenService, Map<string, Promise<JobDefinition | undefined>>>();
const tenants = new WeakMap<QueenService, Map<string, Promise<string>>>();
/** Tenants of waiting jobs kept at most (a job's tenant never changes; the oldest entries go first). */
const MAX_TENANTS = 100_000;

const perQueen = <V>(map: WeakMap<QueenService, Map<string, V>>, queen: QueenService): Map<string, V> => {
  let byKey = map.get(queen);
  if (!byKey) {
    byKey = new Map();
    map.set(queen, byKey);
  }
  return byKey;
};

/** A definition version, read once per queen: versions never change. */
function definitionOf(queen: QueenService, jobType: string, version: number): Promise<JobDefinition | undefined> {
  const byKey = perQueen(definitions, queen);
  const key = `${jobType}\u0000${version}`;
  let found = byKey.get(key);
  if (!found) {
    found = queen.definitionVersions(jobType).then((versions) => versions.find((v) => v.version === version)?.definition);
    byKey.set(key, found);
  }
  return found;
}

/** The tags a waiting task (or, without a task type, a job) is placed by: its definition's tags plus the task's. */
export async function tagsOfTask(queen: QueenService, jobType: string, version: number, taskType?: string): Promise<readonly string[]> {
  const definition = await definitionOf(queen, jobType, version);
  if (!definition) return [];
  const task = taskType === undefined ? undefined : definition.tasks.find((t) => t.taskType === taskType);
  return [...new Set([...definition.tags, ...(task?.tags ?? [])])].sort();
}

/**
 * A waiting job's tenant (its `tenant` param, else its definition's, else `default`), the rule the
 * scheduler charges usage by. `params` are the job's, or a read of them; each job is read once.
 */
export function tenantOfJob(
  queen: QueenService,
  jobId: string,
  jobType: string,
  version: number,
  params: Readonly<Record<string, unknown>> | (() => Promise<Readonly<Record<string, unknown>> | undefined> | undefined),
): Promise<string> {
  const byJob = perQueen(tenants, queen);
  let found = byJob.get(jobId);
  if (!found) {
    const read = typeof params === 'function' ? Promise.resolve(params()) : Promise.resolve(params);
    found = Promise.all([read, definitionOf(queen, jobType, version)]).then(
      ([values, definition]) => tenantOf(values, definition),
      () => 'default',
    );
    if (byJob.size >= MAX_TENANTS) byJob.delete(byJob.keys().next().value as string);
    byJob.set(jobId, found);
  }
  return found;
}

import type { ArtifactCatalog } from '../artifacts/catalog.js';
import { unboundedMs } from '../definition/duration.js';
import type { TaskDefinition } from '../definition/model.js';
import type { ArtifactsRequest, TaskSpec } from '../executors/executor.js';
import type { TaskRow } from '../store/store.js';

/**
 * What an attempt needs for Formicary's artifact flow: the paths to collect after it, and the
 * files of each task named in its `dependencies` (from the attempt that ended that task).
 * A dependency that has not run, or left nothing, gives an empty list: Formicary carries on too.
 */
export async function artifactFields(
  catalog: ArtifactCatalog,
  task: TaskDefinition,
  tasks: readonly TaskRow[],
  jobId: string,
  now: Date,
): Promise<Pick<TaskSpec, 'artifacts' | 'dependencies'>> {
  const dependencies = await Promise.all(
    task.dependencies.map(async (taskType) => {
      const row = tasks.find((t) => t.taskType === taskType);
      const files = row === undefined || row.attempt === 0 ? [] : await catalog.ofAttempt(jobId, taskType, row.attempt, now);
      return { taskType, files };
    }),
  );
  return {
    ...(task.artifacts === undefined ? {} : { artifacts: artifactsRequest(task.artifacts) }),
    ...(dependencies.length === 0 ? {} : { dependencies }),
  };
}

function artifactsRequest(spec: NonNullable<TaskDefinition['artifacts']>): ArtifactsRequest {
  const expires = spec.expires_after ?? spec.expire_after;
  const expiresAfterMs = expires === undefined ? undefined : unboundedMs(expires);
  return {
    paths: spec.paths,
    ...(expiresAfterMs === undefined ? {} : { expiresAfterMs }),
    ...(spec.when === undefined ? {} : { when: spec.when }),
  };
}

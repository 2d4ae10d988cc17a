import type { ArtifactCatalog } from '../artifacts/catalog.js';
import { unboundedMs } from '../definition/duration.js';
import type { TaskDefinition } from '../definition/model.js';
import type { ArtifactsRequest, CacheRequest, TaskSpec } from '../executors/executor.js';
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
  jobType: string,
): Promise<Pick<TaskSpec, 'artifacts' | 'dependencies' | 'cache'>> {
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
    ...(task.cache === undefined ? {} : { cache: await cacheRequest(catalog, task.cache, jobType, now) }),
  };
}

/**
 * Caches are kept in the artifact catalog under a job id of their own per job type, one row per
 * resolved key (task type = the key, attempt 0, one archive file): expiry and the blob sweep treat
 * them as artifacts, and every queen sees the same ones.
 */
export const cacheJobId = (jobType: string): string => `cache:${jobType}`;

/** How long a saved cache is kept without `expires_after`. */
const CACHE_KEPT_MS = 7 * 86_400_000;
/** The newest keys sent with an attempt: keys change with checksums, the old ones are rarely wanted. */
const CACHE_KEYS_SENT = 20;

async function cacheRequest(
  catalog: ArtifactCatalog,
  spec: NonNullable<TaskDefinition['cache']>,
  jobType: string,
  now: Date,
): Promise<CacheRequest> {
  const saved = [...(await catalog.list(cacheJobId(jobType), now))]
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())
    .slice(0, CACHE_KEYS_SENT);
  const keyPaths = spec.key_paths ?? spec.keys;
  return {
    ...(spec.key === undefined ? {} : { key: spec.key }),
    ...(keyPaths === undefined ? {} : { keyPaths }),
    paths: spec.paths,
    expiresAfterMs: (spec.expires_after === undefined ? undefined : unboundedMs(spec.expires_after)) ?? CACHE_KEPT_MS,
    saved: Object.fromEntries(saved.map((r) => [r.taskType, { digest: r.digest, size: r.size }])),
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

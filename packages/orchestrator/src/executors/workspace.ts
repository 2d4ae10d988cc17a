import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packCache, unpackCache } from '../artifacts/cache.js';
import { cacheKey, collectArtifacts, restoreArtifacts } from '../artifacts/collect.js';
import type { BlobStore } from '../artifacts/store.js';
import type { AttemptResult } from '../domain/types.js';
import type { CacheRequest, ExecutionContext, Executor } from './executor.js';

export interface WorkspaceOptions {
  readonly blobs: BlobStore;
  /** Where attempts' working directories are made (default: the OS temp dir). */
  readonly root?: string;
}

/**
 * Gives an executor Formicary's artifact flow: an attempt that has `dependencies`, `artifacts` or a
 * `cache` runs in a fresh directory holding its dependencies' files and its restored cache, and
 * what its `artifacts.paths` name is stored as blobs and returned with the result, as is its cache
 * after a success. The directory is deleted afterwards, so nothing of one attempt leaks into the
 * next. Attempts with none of these run exactly as before.
 */
export function withWorkspace(inner: Executor, options: WorkspaceOptions): Executor {
  return {
    method: inner.method,
    async execute(context) {
      const { spec } = context;
      const dependencies = spec.dependencies ?? [];
      if (spec.artifacts === undefined && spec.cache === undefined && dependencies.length === 0) return inner.execute(context);
      const workdir = await mkdtemp(join(options.root ?? tmpdir(), 'myrmex-ws-'));
      try {
        for (const dependency of dependencies) {
          await restoreArtifacts(options.blobs, dependency, workdir);
          context.log(
            'system',
            `artifacts of ${dependency.taskType}: ${dependency.files.map((f) => f.path).join(', ') || 'none'}`,
            new Date(),
          );
        }
        if (spec.cache !== undefined) await restoreCache(spec.cache, workdir, options.blobs, context.log);
        const ran = await inner.execute({ ...context, workdir });
        const result =
          spec.cache !== undefined && ran.succeeded ? await saveCache(ran, spec.cache, workdir, options.blobs, context.log) : ran;
        const request = spec.artifacts;
        const when = request?.when ?? 'on_success';
        if (request === undefined || (when === 'on_success' && !result.succeeded) || (when === 'on_failure' && result.succeeded)) {
          return result;
        }
        return await collect(result, workdir, request.paths, request.expiresAfterMs, options.blobs, context.log);
      } catch (error) {
        return { succeeded: false, error: `artifacts: ${error instanceof Error ? error.message : String(error)}` };
      } finally {
        await rm(workdir, { recursive: true, force: true });
      }
    },
  };
}

async function collect(
  result: AttemptResult,
  workdir: string,
  paths: readonly string[],
  expiresAfterMs: number | undefined,
  blobs: BlobStore,
  log: Parameters<Executor['execute']>[0]['log'],
): Promise<AttemptResult> {
  const manifest = await collectArtifacts(blobs, workdir, paths, expiresAfterMs === undefined ? undefined : Date.now() + expiresAfterMs);
  const at = new Date();
  for (const file of manifest.files) log('system', `artifact ${file.path} (${file.size} bytes, ${file.digest})`, at);
  // Formicary logs a path that is not there and carries on; so does Myrmex.
  for (const path of manifest.missing) log('system', `artifact path ${path} not found after the task`, at);
  return { ...result, artifacts: manifest };
}

/** Restores the cache the key names, if one was saved; a cache that cannot be restored is logged, never fatal. */
async function restoreCache(cache: CacheRequest, workdir: string, blobs: BlobStore, log: ExecutionContext['log']): Promise<void> {
  const key = await cacheKey(workdir, { ...(cache.key === undefined ? {} : { key: cache.key }), key_paths: cache.keyPaths ?? [] });
  const saved = cache.saved[key];
  if (saved === undefined) {
    log('system', `cache ${key}: none saved yet`, new Date());
    return;
  }
  try {
    await unpackCache(blobs, saved.digest, workdir);
    log('system', `cache ${key}: restored ${cache.paths.join(', ')} (${saved.size} bytes)`, new Date());
  } catch (error) {
    log(
      'system',
      `cache ${key}: could not be restored (${error instanceof Error ? error.message : String(error)}); running without it`,
      new Date(),
    );
  }
}

/**
 * Saves the cache paths under the key they have now (a checksum's file may have changed during the
 * task). A key already saved is kept as it is, as GitHub Actions does: a new key makes a new cache.
 */
async function saveCache(
  result: AttemptResult,
  cache: CacheRequest,
  workdir: string,
  blobs: BlobStore,
  log: ExecutionContext['log'],
): Promise<AttemptResult> {
  const key = await cacheKey(workdir, { ...(cache.key === undefined ? {} : { key: cache.key }), key_paths: cache.keyPaths ?? [] });
  if (cache.saved[key] !== undefined) {
    log('system', `cache ${key}: already saved, kept`, new Date());
    return result;
  }
  const archive = await packCache(blobs, workdir, cache.paths);
  if (archive === undefined) {
    log('system', `cache ${key}: none of ${cache.paths.join(', ')} exists after the task; nothing saved`, new Date());
    return result;
  }
  log('system', `cache ${key}: saved ${cache.paths.join(', ')} (${archive.size} bytes, ${archive.digest})`, new Date());
  return { ...result, cache: { key, ...archive, expiresAt: Date.now() + cache.expiresAfterMs } };
}

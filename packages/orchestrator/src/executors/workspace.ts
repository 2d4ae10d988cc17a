import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectArtifacts, restoreArtifacts } from '../artifacts/collect.js';
import type { BlobStore } from '../artifacts/store.js';
import type { AttemptResult } from '../domain/types.js';
import type { Executor } from './executor.js';

export interface WorkspaceOptions {
  readonly blobs: BlobStore;
  /** Where attempts' working directories are made (default: the OS temp dir). */
  readonly root?: string;
}

/**
 * Gives an executor Formicary's artifact flow: an attempt that has `dependencies` or `artifacts`
 * runs in a fresh directory holding its dependencies' files, and what its `artifacts.paths` name
 * is stored as blobs and returned with the result. The directory is deleted afterwards, so nothing
 * of one attempt leaks into the next. Attempts with neither run exactly as before.
 */
export function withWorkspace(inner: Executor, options: WorkspaceOptions): Executor {
  return {
    method: inner.method,
    async execute(context) {
      const { spec } = context;
      const dependencies = spec.dependencies ?? [];
      if (spec.artifacts === undefined && dependencies.length === 0) return inner.execute(context);
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
        const result = await inner.execute({ ...context, workdir });
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

import { lstat } from 'node:fs/promises';
import { isAbsolute, join, normalize, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-fs';
import type { BlobRef, BlobStore } from './store.js';

/**
 * A task's `cache` as one archive blob: what `paths` held after the task, restored before a later
 * task whose key matches. One blob per cache (not one per file) keeps a directory of thousands of
 * files (node_modules) one entry in the catalog and one download.
 */

const CHECKSUM_FILE = /\{\{\s*checksum\s+"([^"]+)"\s*\}\}/g;

/** The files a key is computed from (`{{checksum "file"}}` and key_paths): a container copies them out too. */
export function cacheKeyFiles(spec: { readonly key?: string; readonly keyPaths?: readonly string[] }): string[] {
  return [...[...(spec.key ?? '').matchAll(CHECKSUM_FILE)].map((m) => m[1]!), ...(spec.keyPaths ?? [])];
}

const kept = (path: string) => {
  const clean = normalize(path).replace(/[\\/]+$/, '');
  return !(isAbsolute(clean) || clean === '..' || clean === '.' || clean === '' || clean.startsWith(`..${sep}`));
};

/** Archives what exists of `paths` under `workdir` into one blob; undefined when none of them exists. */
export async function packCache(blobs: BlobStore, workdir: string, paths: readonly string[]): Promise<BlobRef | undefined> {
  const entries: string[] = [];
  for (const path of paths) {
    if (!kept(path)) throw new RangeError(`cache path '${path}' leaves the working directory`);
    const clean = normalize(path).replace(/[\\/]+$/, '');
    if (await lstat(join(workdir, clean)).catch(() => undefined)) entries.push(clean);
  }
  if (entries.length === 0) return undefined;
  // Links are archived as links, never followed: a cache cannot carry files from outside the directory.
  return blobs.put(tar.pack(workdir, { entries, dereference: false }));
}

/** Writes a cache archive's files under `workdir`. */
export async function unpackCache(blobs: BlobStore, digest: string, workdir: string): Promise<void> {
  await pipeline(await blobs.open(digest), tar.extract(workdir));
}

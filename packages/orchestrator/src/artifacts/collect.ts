import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdir, readdir, readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, relative, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { BlobRef, BlobStore } from './store.js';

/** One collected file: where it was, relative to the task's working directory, and its blob. */
export interface ArtifactFile extends BlobRef {
  readonly path: string;
  readonly mode: number;
}

/** What a task left: its files and when they may be deleted. */
export interface ArtifactManifest {
  readonly files: readonly ArtifactFile[];
  readonly missing: readonly string[];
  /** Epoch ms; absent means kept until the job is deleted. */
  readonly expiresAt?: number;
}

/** A path written in a definition, checked to stay inside the working directory. */
function inside(workdir: string, path: string): string {
  const clean = normalize(path);
  if (isAbsolute(clean) || clean === '..' || clean.startsWith(`..${sep}`)) {
    throw new RangeError(`artifact path '${path}' leaves the working directory`);
  }
  return join(workdir, clean);
}

async function walk(root: string, at: string): Promise<string[]> {
  const info = await lstat(at);
  if (info.isSymbolicLink()) return []; // a link could point anywhere on the ant: never followed
  if (info.isFile()) return [relative(root, at)];
  if (!info.isDirectory()) return [];
  const names = (await readdir(at)).sort();
  return (await Promise.all(names.map((name) => walk(root, join(at, name))))).flat();
}

/**
 * Stores every file under `paths` (files or directories, relative to `workdir`) and lists them.
 * A path that does not exist is reported in `missing` rather than failing the task (Formicary logs it).
 */
export async function collectArtifacts(
  store: BlobStore,
  workdir: string,
  paths: readonly string[],
  expiresAt?: number,
): Promise<ArtifactManifest> {
  const files: ArtifactFile[] = [];
  const missing: string[] = [];
  const seen = new Set<string>();
  for (const path of paths) {
    const absolute = inside(workdir, path);
    const found = await walk(workdir, absolute).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (found === undefined) {
      missing.push(path);
      continue;
    }
    for (const file of found) {
      if (seen.has(file)) continue;
      seen.add(file);
      const full = join(workdir, file);
      const { mode } = await lstat(full);
      files.push({ path: file.split(sep).join('/'), mode: mode & 0o777, ...(await store.put(createReadStream(full))) });
    }
  }
  return { files, missing, ...(expiresAt === undefined ? {} : { expiresAt }) };
}

/** Writes a manifest's files under `dir` (the `dependencies` of a later task, or a restored cache). */
export async function restoreArtifacts(store: BlobStore, manifest: Pick<ArtifactManifest, 'files'>, dir: string): Promise<void> {
  for (const file of manifest.files) {
    const target = inside(dir, file.path);
    await mkdir(dirname(target), { recursive: true });
    await pipeline(await store.open(file.digest), createWriteStream(target, { mode: file.mode }));
  }
}

/** Digests a manifest holds, for `BlobStore.sweep`: unexpired manifests keep their blobs. */
export function liveDigests(manifests: readonly ArtifactManifest[], now: number): Set<string> {
  return new Set(manifests.filter((m) => m.expiresAt === undefined || m.expiresAt > now).flatMap((m) => m.files.map((f) => f.digest)));
}

const CHECKSUM = /\{\{\s*checksum\s+"([^"]+)"\s*\}\}/g;

/**
 * A cache key as written (`deps-{{checksum "package-lock.json"}}`), or from `key_paths` (Formicary):
 * every file's SHA-256, so the cache changes exactly when one of those files does. A missing file
 * counts as empty, so a first build without a lock file still gets a key; neither gives `default`.
 */
export async function cacheKey(
  workdir: string,
  spec: { readonly key?: string; readonly key_paths?: readonly string[]; readonly keys?: readonly string[] },
): Promise<string> {
  const checksum = async (path: string) =>
    createHash('sha256')
      .update(await readFile(inside(workdir, path)).catch(() => Buffer.alloc(0)))
      .digest('hex');
  const paths = spec.key_paths ?? spec.keys ?? [];
  if (spec.key !== undefined) {
    let key = spec.key;
    for (const match of spec.key.matchAll(CHECKSUM)) key = key.replace(match[0], await checksum(match[1]!));
    return paths.length === 0 ? key : `${key}-${await combined(paths, checksum)}`;
  }
  // No key at all (Formicary allows it): one cache per job type, as GitLab's `default` key.
  if (paths.length === 0) return 'default';
  return combined(paths, checksum);
}

async function combined(paths: readonly string[], checksum: (path: string) => Promise<string>): Promise<string> {
  const hash = createHash('sha256');
  for (const path of paths) hash.update(`${path}\0${await checksum(path)}\n`);
  return hash.digest('hex');
}

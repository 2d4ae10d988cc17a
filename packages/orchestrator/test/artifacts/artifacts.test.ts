import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { BlobNotFoundError, cacheKey, collectArtifacts, LocalBlobStore, liveDigests, restoreArtifacts } from '../../src/artifacts/index.js';

const folders: string[] = [];
const folder = () => {
  const path = mkdtempSync(join(tmpdir(), 'myrmex-artifacts-'));
  folders.push(path);
  return path;
};
afterEach(() => {
  for (const path of folders.splice(0)) rmSync(path, { recursive: true, force: true });
});

describe('LocalBlobStore', () => {
  it('names each blob by the SHA-256 of its bytes and gives the bytes back (property)', async () => {
    const store = new LocalBlobStore(folder());
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), async (bytes) => {
        const ref = await store.put(Buffer.from(bytes));
        expect(ref).toEqual({ digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, size: bytes.length });
        const back = Buffer.concat(await (await store.open(ref.digest)).toArray());
        expect(back.equals(Buffer.from(bytes))).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  it('keeps one copy when the same bytes are stored at once many times', async () => {
    const root = folder();
    const store = new LocalBlobStore(root);
    const refs = await Promise.all(Array.from({ length: 20 }, () => store.put(Buffer.from('same bytes'))));
    expect(new Set(refs.map((ref) => ref.digest)).size).toBe(1);
    expect(await store.sweep(new Set())).toBe(1);
  });

  it('refuses anything that is not a digest before it becomes a path, and says when a blob is absent', async () => {
    const store = new LocalBlobStore(folder());
    await expect(store.open('../../etc/passwd')).rejects.toThrow(/not a sha256 digest/);
    await expect(store.open(`sha256:${'0'.repeat(64)}`)).rejects.toBeInstanceOf(BlobNotFoundError);
  });
});

describe('artifacts of a task', () => {
  it('collects files and directories, stores them content-addressed, and restores them for a later task', async () => {
    const store = new LocalBlobStore(folder());
    const work = folder();
    mkdirSync(join(work, 'dist/sub'), { recursive: true });
    writeFileSync(join(work, 'dist/app.js'), 'console.log(1)');
    writeFileSync(join(work, 'dist/sub/data.txt'), 'data');
    writeFileSync(join(work, 'report.txt'), 'ok', { mode: 0o640 });
    symlinkSync('/etc/passwd', join(work, 'dist/link'));
    const manifest = await collectArtifacts(store, work, ['dist', 'report.txt', 'absent.txt'], 1000);
    expect(manifest.files.map((file) => [file.path, file.size])).toEqual([
      ['dist/app.js', 14],
      ['dist/sub/data.txt', 4],
      ['report.txt', 2],
    ]);
    expect(manifest.missing).toEqual(['absent.txt']);
    const later = folder();
    await restoreArtifacts(store, manifest, later);
    expect(readFileSync(join(later, 'dist/sub/data.txt'), 'utf8')).toBe('data');
    expect(statSync(join(later, 'report.txt')).mode & 0o777).toBe(0o640);
  });

  it('refuses paths that leave the working directory', async () => {
    const store = new LocalBlobStore(folder());
    await expect(collectArtifacts(store, folder(), ['../secrets'])).rejects.toThrow(/leaves the working directory/);
    await expect(collectArtifacts(store, folder(), ['/etc/passwd'])).rejects.toThrow(/leaves the working directory/);
    await expect(
      restoreArtifacts(store, { files: [{ path: '../x', digest: `sha256:${'0'.repeat(64)}`, size: 0, mode: 0o644 }] }, folder()),
    ).rejects.toThrow(/leaves the working directory/);
  });

  it('expired manifests release their blobs; blobs shared with a live manifest stay', async () => {
    const store = new LocalBlobStore(folder());
    const work = folder();
    writeFileSync(join(work, 'shared.txt'), 'shared');
    writeFileSync(join(work, 'old.txt'), 'old');
    const old = await collectArtifacts(store, work, ['shared.txt', 'old.txt'], 100);
    const live = await collectArtifacts(store, work, ['shared.txt'], 10_000);
    expect(await store.sweep(liveDigests([old, live], 500))).toBe(1);
    expect(await text(await store.open(live.files[0]!.digest))).toBe('shared');
    await expect(store.open(old.files[1]!.digest)).rejects.toBeInstanceOf(BlobNotFoundError);
  });
});

describe('cache keys', () => {
  it('{{checksum "file"}} and key_paths change exactly when the file does', async () => {
    const work = folder();
    writeFileSync(join(work, 'package-lock.json'), '{"v":1}');
    const first = await cacheKey(work, { key: 'npm-{{checksum "package-lock.json"}}' });
    expect(first).toBe(`npm-${createHash('sha256').update('{"v":1}').digest('hex')}`);
    expect(await cacheKey(work, { key: 'npm-{{checksum "package-lock.json"}}' })).toBe(first);
    const byPaths = await cacheKey(work, { key_paths: ['package-lock.json'] });
    writeFileSync(join(work, 'package-lock.json'), '{"v":2}');
    expect(await cacheKey(work, { key: 'npm-{{checksum "package-lock.json"}}' })).not.toBe(first);
    expect(await cacheKey(work, { key_paths: ['package-lock.json'] })).not.toBe(byPaths);
    // Formicary's trivy-scan-tls-job has a cache with paths only: one cache per job type.
    expect(await cacheKey(work, {})).toBe('default');
  });
});

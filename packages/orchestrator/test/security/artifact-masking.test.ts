import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalBlobStore, MAX_MASKED_ARTIFACT_BYTES, maskArtifactFile, maskManifest } from '../../src/artifacts/index.js';
import { AntArtifactDepot, antOwner, DepotError, MASK, Masker, SqliteStore, secretForms } from '../../src/index.js';
import { job, makeReady } from './harness.js';

const SECRET = 'hunter2-Sup3r/Secret+';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'myrmex-artifact-mask-'));
  dirs.push(dir);
  return dir;
}

async function text(blobs: LocalBlobStore, digest: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of await blobs.open(digest)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

describe('artifact masking', () => {
  const masker = new Masker([SECRET]);

  it('stores a text file with every form of a secret masked as a new blob, and leaves other files as they are', async () => {
    const blobs = new LocalBlobStore(tempDir());
    const leaky = `${secretForms(SECRET).join('\n')}\n`;
    const put = async (content: string | Buffer) => ({ path: 'f', mode: 0o644, ...(await blobs.put(Buffer.from(content))) });
    const original = await put(leaky);
    const masked = await maskArtifactFile(blobs, masker, original);
    expect(masked.digest).not.toBe(original.digest);
    const stored = await text(blobs, masked.digest);
    expect(new Set(stored.split('\n').filter(Boolean))).toEqual(new Set([MASK]));
    expect(masked.size).toBe(Buffer.byteLength(stored));
    const clean = await put('nothing to hide\n');
    expect(await maskArtifactFile(blobs, masker, clean)).toBe(clean);
    const binary = await put(Buffer.concat([Buffer.from([0]), Buffer.from(SECRET)]));
    expect(await maskArtifactFile(blobs, masker, binary)).toBe(binary);
    const notUtf8 = await put(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(SECRET)]));
    expect(await maskArtifactFile(blobs, masker, notUtf8)).toBe(notUtf8);
    // Over the bound the file is not even read (its blob need not exist).
    const huge = { path: 'big', mode: 0o644, digest: `sha256:${'0'.repeat(64)}`, size: MAX_MASKED_ARTIFACT_BYTES + 1 };
    expect(await maskArtifactFile(blobs, masker, huge)).toBe(huge);
    const manifest = { files: [original, clean], missing: ['gone'] };
    expect(await maskManifest(blobs, masker, manifest)).toEqual({ files: [masked, clean], missing: ['gone'] });
    expect(await maskManifest(blobs, new Masker([]), manifest)).toBe(manifest);
  });

  it("records a remote ant's upload masked, knows a re-send of it, and refuses other content under the same path", async () => {
    const dir = tempDir();
    const store = SqliteStore.open({ path: join(dir, 'q.db') });
    await store.opened();
    try {
      const blobs = new LocalBlobStore(join(dir, 'blobs'));
      const depot = new AntArtifactDepot({ store, blobs, masker: async () => masker });
      await store.createJob(job('j'));
      await makeReady(store, 'j');
      await store.claim({ jobId: 'j', taskType: 'a', antId: 'x', owner: antOwner('x'), at: new Date() });
      const content = Buffer.from(`token: ${SECRET}\n`);
      const digest = (await new LocalBlobStore(join(dir, 'ant')).put(content)).digest;
      const upload = { jobId: 'j', taskType: 'a', attempt: 1, path: 'out.txt', mode: 0o644, digest, length: content.length };
      expect(await depot.receive('x', upload, Readable.from([content]))).toMatchObject({ stored: true });
      const [row] = await store.artifacts!().ofAttempt('j', 'a', 1, new Date());
      expect(row?.digest).not.toBe(digest);
      expect(await text(blobs, row!.digest)).toBe(`token: ${MASK}\n`);
      // The acknowledgement was lost: the same bytes again are known, not stored twice.
      expect(await depot.receive('x', upload, Readable.from([content]))).toMatchObject({ stored: false, digest: row!.digest });
      const other = Buffer.from('other\n');
      const otherDigest = (await new LocalBlobStore(join(dir, 'ant')).put(other)).digest;
      const refused = depot.receive('x', { ...upload, digest: otherDigest, length: other.length }, Readable.from([other]));
      await expect(refused).rejects.toBeInstanceOf(DepotError);
      await expect(refused).rejects.toMatchObject({ status: 409 });
      expect(await store.artifacts!().ofAttempt('j', 'a', 1, new Date())).toHaveLength(1);
    } finally {
      await store.close();
    }
  });
});

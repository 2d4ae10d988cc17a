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
    const masked = (await maskArtifactFile(blobs, masker, original))!;
    expect(masked.digest).not.toBe(original.digest);
    const stored = await text(blobs, masked.digest);
    expect(new Set(stored.split('\n').filter(Boolean))).toEqual(new Set([MASK]));
    expect(masked.size).toBe(Buffer.byteLength(stored));
    const clean = await put('nothing to hide\n');
    expect(await maskArtifactFile(blobs, masker, clean)).toBe(clean);
    const manifest = { files: [original, clean], missing: ['gone'] };
    expect(await maskManifest(blobs, masker, manifest)).toEqual({ manifest: { files: [masked, clean], missing: ['gone'] }, withheld: [] });
    expect(await maskManifest(blobs, new Masker([]), manifest)).toEqual({ manifest, withheld: [] });
  });

  it('withholds a binary or oversized file that holds a secret in any form (never rewrites it), and keeps binaries without one', async () => {
    const blobs = new LocalBlobStore(tempDir());
    const put = async (path: string, content: Buffer) => ({ path, mode: 0o644, ...(await blobs.put(content)) });
    const nul = Buffer.from([0]);
    const withBytes = (bytes: Buffer) => Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0]), bytes, nul]);
    const leaky = [
      await put('raw.bin', withBytes(Buffer.from(SECRET))),
      await put('utf16.bin', withBytes(Buffer.from(SECRET, 'utf16le'))),
      await put('b64.bin', withBytes(Buffer.from(Buffer.from(SECRET).toString('base64')))),
      await put('hex.bin', withBytes(Buffer.from(Buffer.from(SECRET).toString('hex')))),
      await put('not-utf8.bin', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(SECRET)])),
    ];
    for (const file of leaky) expect(await maskArtifactFile(blobs, masker, file), file.path).toBeUndefined();
    const clean = await put('clean.bin', withBytes(Buffer.from('hunter2-Sup3r/Secre')));
    expect(await maskArtifactFile(blobs, masker, clean)).toBe(clean);
    // Over the bound a file is scanned as a stream, the secret straddling two chunks of the blob store's reads.
    const big = Buffer.alloc(MAX_MASKED_ARTIFACT_BYTES + 1024, 0x61);
    Buffer.from(SECRET).copy(big, 64 * 1024 - 5);
    const huge = await put('huge.log', big);
    expect(await maskArtifactFile(blobs, masker, huge)).toBeUndefined();
    const hugeClean = await put('huge-clean.log', Buffer.alloc(MAX_MASKED_ARTIFACT_BYTES + 1024, 0x61));
    expect(await maskArtifactFile(blobs, masker, hugeClean)).toBe(hugeClean);
    const manifest = { files: [clean, leaky[0]!, hugeClean], missing: [] };
    expect(await maskManifest(blobs, masker, manifest)).toEqual({
      manifest: { files: [clean, hugeClean], missing: [] },
      withheld: ['raw.bin'],
    });
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
      // A binary holding the secret is refused, saying why, and nothing is recorded for it.
      const binary = Buffer.concat([Buffer.from([0]), Buffer.from(SECRET)]);
      const binaryDigest = (await new LocalBlobStore(join(dir, 'ant')).put(binary)).digest;
      const withheld = depot.receive(
        'x',
        { ...upload, path: 'blob.bin', digest: binaryDigest, length: binary.length },
        Readable.from([binary]),
      );
      await expect(withheld).rejects.toMatchObject({
        status: 422,
        message: expect.stringMatching(/^artifact blob\.bin was not stored: it holds the bytes of a secret/),
      });
      expect(await store.artifacts!().ofAttempt('j', 'a', 1, new Date())).toHaveLength(1);

      // Past the organisation's hard artifact storage quota, an upload is refused saying which quota, and not recorded.
      await store.quotas().setLimit({ org: 'default', resource: 'artifact_bytes', hard: 100 }, new Date());
      const big = Buffer.alloc(200, 0x61);
      const bigDigest = (await new LocalBlobStore(join(dir, 'ant')).put(big)).digest;
      const over = depot.receive('x', { ...upload, path: 'big.txt', digest: bigDigest, length: big.length }, Readable.from([big]));
      await expect(over).rejects.toMatchObject({
        status: 413,
        message: expect.stringMatching(
          /^big\.txt \(200 bytes\) was not stored: artifact storage quota, org default at quota \d+\/100 artifact bytes$/,
        ),
      });
      const small = Buffer.from('ok\n');
      const smallDigest = (await new LocalBlobStore(join(dir, 'ant')).put(small)).digest;
      const fits = { ...upload, path: 'small.txt', digest: smallDigest, length: small.length };
      expect(await depot.receive('x', fits, Readable.from([small]))).toMatchObject({ stored: true });
      expect((await store.artifacts!().ofAttempt('j', 'a', 1, new Date())).map((f) => f.path)).toEqual(['out.txt', 'small.txt']);
    } finally {
      await store.close();
    }
  });
});

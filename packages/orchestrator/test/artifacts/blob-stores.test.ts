import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import fc from 'fast-check';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobNotFoundError, type BlobStore, LocalBlobStore, S3BlobStore } from '../../src/artifacts/index.js';
import { finished, startQueen } from '../queen/helpers.js';

/**
 * The BlobStore contract, run on the local filesystem and on S3 through the AWS SDK against s3rver,
 * a real S3-compatible HTTP server started here on loopback (MinIO cannot be installed on this machine).
 */
const sha = (bytes: Uint8Array | string) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

function describeBlobStoreContract(name: string, open: () => Promise<BlobStore>): void {
  describe(`BlobStore contract: ${name}`, () => {
    it('names blobs by their SHA-256 and gives the bytes back, from buffers and streams (property)', async () => {
      const store = await open();
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), fc.boolean(), async (bytes, asStream) => {
          const content = Buffer.from(bytes);
          const ref = await store.put(asStream ? Readable.from([content]) : content);
          expect(ref).toEqual({ digest: sha(bytes), size: bytes.length });
          expect(await store.has(ref.digest)).toBe(true);
          expect(Buffer.concat(await (await store.open(ref.digest)).toArray()).equals(content)).toBe(true);
        }),
        { numRuns: 15 },
      );
    });

    it('stores the same bytes once, refuses non-digests, and reports absent blobs', async () => {
      const store = await open();
      const [a, b] = await Promise.all([store.put(Buffer.from('same')), store.put(Buffer.from('same'))]);
      expect(a).toEqual(b);
      await expect(store.open(sha('never stored'))).rejects.toBeInstanceOf(BlobNotFoundError);
      expect(await store.has(sha('never stored'))).toBe(false);
      await expect(store.open('../../etc/passwd')).rejects.toThrow(/not a sha256 digest/);
    });

    it('sweeps what is not kept, sparing blobs written after the cut-off', async () => {
      const store = await open();
      const before = new Date(Date.now() - 3_600_000);
      const kept = await store.put(Buffer.from('kept'));
      const dropped = await store.put(Buffer.from('dropped'));
      const other = await store.put(Buffer.from('other'));
      // All three were written after the cut-off: a sweep racing with their artifact rows spares them.
      expect(await store.sweep(new Set([kept.digest]), before)).toBe(0);
      expect(await store.has(dropped.digest)).toBe(true);
      expect(await store.sweep(new Set([kept.digest]))).toBe(2);
      expect(await store.has(kept.digest)).toBe(true);
      expect(await store.has(dropped.digest)).toBe(false);
      expect(await store.has(other.digest)).toBe(false);
      expect(await text(await store.open(kept.digest))).toBe('kept');
    });
  });
}

const roots: string[] = [];
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});
const folder = () => {
  const root = mkdtempSync(join(tmpdir(), 'myrmex-blobs-'));
  roots.push(root);
  return root;
};

describeBlobStoreContract('local filesystem', async () => {
  return new LocalBlobStore(folder());
});

describe('S3 (s3rver on loopback)', () => {
  let server: S3rver;
  let endpoint = '';
  let buckets = 0;
  beforeAll(async () => {
    const bucketNames = Array.from({ length: 8 }, (_, i) => ({ name: `myrmex-${i}` }));
    server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: folder(), configureBuckets: bucketNames });
    const address = (await server.run()) as { port: number };
    endpoint = `http://127.0.0.1:${address.port}`;
  });
  afterAll(async () => {
    await server?.close();
  });
  const s3 = () =>
    new S3BlobStore({
      bucket: `myrmex-${buckets++}`,
      client: {
        endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
        // Adaptation: s3rver predates the SDK's default flexible checksums (aws-chunked bodies), so
        // checksums are sent only where S3 requires them; MinIO and AWS need no such setting.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      },
    });
  describeBlobStoreContract('S3', async () => s3());

  it('a queen keeps its artifacts in S3: collected, passed to dependents, downloaded', async () => {
    const queen = await startQueen({ blobs: s3() });
    await queen.applyDefinition(`job_type: s3-artifacts
tasks:
- task_type: make
  method: SHELL
  script: ['echo "in the bucket" > data.txt']
  artifacts: { paths: [data.txt] }
  on_completed: use
- task_type: use
  method: SHELL
  dependencies: [make]
  script: ['cat data.txt']
`);
    const job = await finished(queen, (await queen.submit({ jobType: 's3-artifacts' })).id);
    expect(job.state).toBe('COMPLETED');
    expect((await queen.logs(job.id, { taskType: 'use' })).filter((l) => l.stream === 'stdout').map((l) => l.text)).toEqual([
      'in the bucket',
    ]);
    const [artifact] = await queen.artifacts(job.id);
    expect(await text((await queen.openArtifact(job.id, artifact!.digest)).content)).toBe('in the bucket\n');
  });

  it('a queen keeps its caches in S3: saved by one job of a type, restored in the next', async () => {
    const queen = await startQueen({ blobs: s3() });
    await queen.applyDefinition(`job_type: s3-cache
tasks:
- task_type: build
  method: SHELL
  cache: { key: deps, paths: [deps] }
  script: ['if [ -f deps/made ]; then echo "HIT $(cat deps/made)"; else mkdir deps && echo "{{.Run}}" > deps/made && echo MISS; fi']
`);
    const out = async (Run: string) => {
      const job = await finished(queen, (await queen.submit({ jobType: 's3-cache', params: { Run } })).id);
      expect(job.state).toBe('COMPLETED');
      return (await queen.logs(job.id, { taskType: 'build' })).filter((l) => l.stream === 'stdout').map((l) => l.text);
    };
    expect(await out('first')).toEqual(['MISS']);
    expect(await out('second')).toEqual(['HIT first']);
  });
});

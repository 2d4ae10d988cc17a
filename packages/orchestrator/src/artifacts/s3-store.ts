import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { BlobNotFoundError, type BlobRef, type BlobStore, checkDigest } from './store.js';

export interface S3BlobStoreOptions {
  readonly bucket: string;
  /** Keys are `<prefix>sha256/<hex>`; default `myrmex/`. */
  readonly prefix?: string;
  /** Passed to the AWS SDK's S3Client: region, endpoint (MinIO, s3rver...), credentials, forcePathStyle. */
  readonly client: S3ClientConfig;
}

const notFound = (error: unknown) => {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
};

/**
 * Blobs as S3 objects named by their digest, through the official AWS SDK, so any S3-compatible
 * service works. A put is hashed into a temporary file first (the key is the digest, known only at
 * the end); the same bytes always land on the same key, so they are stored once.
 */
export class S3BlobStore implements BlobStore {
  private readonly s3: S3Client;
  private readonly prefix: string;

  constructor(private readonly options: S3BlobStoreOptions) {
    this.s3 = new S3Client(options.client);
    this.prefix = options.prefix ?? 'myrmex/';
  }

  async put(content: Readable | Buffer): Promise<BlobRef> {
    const dir = await mkdtemp(join(tmpdir(), 'myrmex-s3-'));
    const file = join(dir, randomUUID());
    try {
      const hash = createHash('sha256');
      const measure = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          hash.update(chunk);
          done(null, chunk);
        },
      });
      await pipeline(Buffer.isBuffer(content) ? Readable.from([content]) : content, measure, createWriteStream(file));
      const digest = `sha256:${hash.digest('hex')}`;
      const { size } = await stat(file);
      // Put even when present: the same bytes under the same key, with a fresh LastModified that keeps
      // the object from a sweep racing with the artifact row being recorded.
      await this.s3.send(
        new PutObjectCommand({ Bucket: this.options.bucket, Key: this.keyOf(digest), Body: createReadStream(file), ContentLength: size }),
      );
      return { digest, size };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async open(digest: string): Promise<Readable> {
    try {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: this.keyOf(digest) }));
      return object.Body as Readable;
    } catch (error) {
      if (notFound(error)) throw new BlobNotFoundError(digest);
      throw error;
    }
  }

  async has(digest: string): Promise<boolean> {
    try {
      await this.s3.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key: this.keyOf(digest) }));
      return true;
    } catch (error) {
      if (notFound(error)) return false;
      throw error;
    }
  }

  async sweep(keep: ReadonlySet<string>, writtenBefore?: Date): Promise<number> {
    let removed = 0;
    let token: string | undefined;
    const base = `${this.prefix}sha256/`;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({
          Bucket: this.options.bucket,
          Prefix: base,
          ...(token === undefined ? {} : { ContinuationToken: token }),
        }),
      );
      const doomed = (page.Contents ?? [])
        .filter((object) => writtenBefore === undefined || (object.LastModified !== undefined && object.LastModified < writtenBefore))
        .map((object) => object.Key!)
        .filter((key) => !keep.has(`sha256:${key.slice(base.length)}`));
      if (doomed.length > 0) {
        await this.s3.send(
          new DeleteObjectsCommand({ Bucket: this.options.bucket, Delete: { Objects: doomed.map((Key) => ({ Key })), Quiet: true } }),
        );
        removed += doomed.length;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return removed;
  }

  close(): void {
    this.s3.destroy();
  }

  private keyOf(digest: string): string {
    return `${this.prefix}sha256/${checkDigest(digest).slice('sha256:'.length)}`;
  }
}

import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BlobNotFoundError, type BlobRef, type BlobStore, checkDigest } from './store.js';

/**
 * Blobs as files under `root/sha256/<2 hex>/<62 hex>`: written to a temporary file while hashed,
 * then renamed into place, so a reader never sees half a blob and two writers of the same bytes
 * both succeed with one file.
 */
export class LocalBlobStore implements BlobStore {
  /** Beside the blobs (never swept as one): queens sharing the folder share the uploads in progress. */
  readonly uploadsDir: string;

  constructor(private readonly root: string) {
    this.uploadsDir = join(root, 'uploads');
  }

  async put(content: Readable | Buffer): Promise<BlobRef> {
    const temporary = join(this.root, 'tmp');
    await mkdir(temporary, { recursive: true });
    const file = join(temporary, randomUUID());
    const hash = createHash('sha256');
    let size = 0;
    const measure = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    });
    try {
      await pipeline(Buffer.isBuffer(content) ? Readable.from([content]) : content, measure, createWriteStream(file, { flags: 'wx' }));
      const digest = `sha256:${hash.digest('hex')}`;
      const target = this.pathOf(digest);
      await mkdir(join(target, '..'), { recursive: true });
      await rename(file, target);
      return { digest, size };
    } finally {
      await rm(file, { force: true });
    }
  }

  async open(digest: string): Promise<Readable> {
    const path = this.pathOf(checkDigest(digest));
    if (!(await this.has(digest))) throw new BlobNotFoundError(digest);
    return createReadStream(path);
  }

  async has(digest: string): Promise<boolean> {
    return stat(this.pathOf(checkDigest(digest)))
      .then((info) => info.isFile())
      .catch(() => false);
  }

  async sweep(keep: ReadonlySet<string>, writtenBefore?: Date): Promise<number> {
    const base = join(this.root, 'sha256');
    let removed = 0;
    for (const prefix of await readdir(base).catch(() => [] as string[])) {
      for (const rest of await readdir(join(base, prefix))) {
        if (keep.has(`sha256:${prefix}${rest}`)) continue;
        if (writtenBefore !== undefined) {
          const written = await stat(join(base, prefix, rest)).catch(() => undefined);
          if (written === undefined || written.mtimeMs >= writtenBefore.getTime()) continue;
        }
        await rm(join(base, prefix, rest), { force: true });
        removed++;
      }
    }
    return removed;
  }

  private pathOf(digest: string): string {
    const hex = checkDigest(digest).slice('sha256:'.length);
    return join(this.root, 'sha256', hex.slice(0, 2), hex.slice(2));
  }
}

/** Where a queen keeps blobs by default: beside its SQLite file, or in the temp dir for `:memory:`. */
export function defaultBlobRoot(dbPath: string | undefined): string {
  if (dbPath === ':memory:') return join(tmpdir(), 'myrmex-artifacts');
  return join(dirname(resolve(dbPath ?? '.myrmex/myrmex.db')), 'artifacts');
}

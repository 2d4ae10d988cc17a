import type { Readable } from 'node:stream';

/** A stored blob, named by its content: the same bytes always give the same digest. */
export interface BlobRef {
  /** `sha256:<hex>`. */
  readonly digest: string;
  readonly size: number;
}

/**
 * Where artifacts and caches live. Content-addressed: `put` returns the digest of what it stored,
 * storing the same bytes twice keeps one copy, and a blob never changes once written.
 */
export interface BlobStore {
  put(content: Readable | Buffer): Promise<BlobRef>;
  /** The blob's bytes; rejects with BlobNotFoundError when absent. */
  open(digest: string): Promise<Readable>;
  has(digest: string): Promise<boolean>;
  /**
   * Deletes blobs that `keep` does not hold (expired artifacts, old caches) and that were last
   * written before `writtenBefore` (when given), so a blob put for an artifact whose row is not
   * recorded yet survives a sweep that runs meanwhile; returns how many went.
   */
  sweep(keep: ReadonlySet<string>, writtenBefore?: Date): Promise<number>;
  /**
   * A folder every queen using this store sees (a shared disk), where a remote ant's uploads in
   * progress are kept, so an upload cut on one queen resumes on another; absent (object storage),
   * each queen keeps its own and a retry on another queen starts over.
   */
  readonly uploadsDir?: string;
}

export class BlobNotFoundError extends Error {
  override readonly name = 'BlobNotFoundError';
  constructor(readonly digest: string) {
    super(`no stored blob ${digest}`);
  }
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** Refuses anything that is not a digest before it reaches a path. */
export function checkDigest(digest: string): string {
  if (!DIGEST.test(digest)) throw new RangeError(`not a sha256 digest: ${JSON.stringify(digest).slice(0, 80)}`);
  return digest;
}

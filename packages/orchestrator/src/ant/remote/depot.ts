import { isAbsolute, posix } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import type { ArtifactCatalog } from '../../artifacts/catalog.js';
import { maskArtifactFile, withheldLine } from '../../artifacts/mask.js';
import { type BlobStore, checkDigest } from '../../artifacts/store.js';
import type { Masker } from '../../security/masking.js';
import type { JobStore } from '../../store/store.js';
import { antOwner } from './hub.js';

/** 1 GiB: what a queen takes per artifact file from a remote ant unless told otherwise. */
export const DEFAULT_MAX_ARTIFACT_BYTES = 1024 ** 3;

/** Why a transfer was refused, as the HTTP status the route answers with. */
export class DepotError extends Error {
  override readonly name = 'DepotError';
  constructor(
    readonly status: 400 | 404 | 409 | 413 | 422 | 501,
    message: string,
  ) {
    super(message);
  }
}

export interface ArtifactUpload {
  readonly jobId: string;
  readonly taskType: string;
  readonly attempt: number;
  /** Relative to the attempt's working directory, `/`-separated. */
  readonly path: string;
  readonly mode: number;
  /** Epoch ms. */
  readonly expiresAt?: number;
  /** What the ant computed; the queen checks the bytes it stored against it. */
  readonly digest: string;
  /** The request's Content-Length, when it gave one. */
  readonly length?: number;
}

export interface AntArtifactDepotOptions {
  readonly store: JobStore;
  readonly blobs: BlobStore;
  readonly maxBytes?: number;
  /** The masker of the job's organisation's secrets: text uploads are stored masked (issue 17). */
  readonly masker?: (jobId: string) => Promise<Masker | undefined>;
}

/**
 * The queen's end of remote ants' artifact transfer. An ant may only upload to, and download for,
 * an attempt that is EXECUTING and leased to itself; each uploaded file is stored in the queen's blob
 * store and recorded in the artifact catalog at once, keyed by attempt and path, so a re-sent upload
 * (its acknowledgement lost) is acknowledged without being stored again.
 */
export class AntArtifactDepot {
  private readonly catalog?: ArtifactCatalog;
  readonly maxBytes: number;

  constructor(private readonly options: AntArtifactDepotOptions) {
    this.catalog = options.store.artifacts?.();
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_ARTIFACT_BYTES;
    if (!Number.isSafeInteger(this.maxBytes) || this.maxBytes < 1)
      throw new RangeError(`maxArtifactBytes must be a positive integer, got ${String(options.maxBytes)}`);
  }

  private catalogOrFail(): ArtifactCatalog {
    if (!this.catalog) throw new DepotError(501, 'this queen keeps no artifact catalog: its store has none');
    return this.catalog;
  }

  /** Refuses unless the attempt runs now and is leased to `antId`. */
  private async holds(antId: string, jobId: string, taskType: string, attempt: number): Promise<void> {
    const row = (await this.options.store.attempts(jobId)).find((a) => a.taskType === taskType && a.attempt === attempt);
    if (row === undefined) throw new DepotError(404, `no attempt ${attempt} of task ${taskType} in job ${jobId}`);
    if (row.owner !== antOwner(antId) || row.state !== 'EXECUTING') {
      throw new DepotError(409, `attempt ${attempt} of ${jobId}/${taskType} is not running on ant ${antId} (it is ${row.state})`);
    }
  }

  /** Stores one uploaded file and records it; `stored` is false when this attempt already has it. */
  async receive(antId: string, upload: ArtifactUpload, body: Readable): Promise<{ digest: string; size: number; stored: boolean }> {
    const catalog = this.catalogOrFail();
    const clean = posix.normalize(upload.path);
    if (upload.path === '' || isAbsolute(upload.path) || clean === '..' || clean.startsWith('../') || clean !== upload.path) {
      throw new DepotError(400, `path '${upload.path}' must be a normalised path inside the working directory`);
    }
    if (!Number.isInteger(upload.mode) || upload.mode < 0 || upload.mode > 0o777)
      throw new DepotError(400, `mode must be a file mode from 0 to 0o777, got ${upload.mode}`);
    try {
      checkDigest(upload.digest);
    } catch (error) {
      throw new DepotError(400, `x-myrmex-digest: ${(error as Error).message}`);
    }
    const { jobId, taskType, attempt } = upload;
    await this.holds(antId, jobId, taskType, attempt);
    const known = (await catalog.ofAttempt(jobId, taskType, attempt, new Date(0))).find((f) => f.path === upload.path);
    const conflict = () => new DepotError(409, `attempt ${attempt} of ${jobId}/${taskType} already has ${upload.path} with other content`);
    if (known?.digest === upload.digest) return { digest: known.digest, size: known.size, stored: false };
    // A masked file is recorded under its masked digest: a re-send is known only once masked again.
    const masker = await this.options.masker?.(jobId);
    if (known !== undefined && (masker === undefined || masker.empty)) throw conflict();
    if (upload.length !== undefined && upload.length > this.maxBytes) {
      throw new DepotError(413, `${upload.path} is ${upload.length} bytes; this queen takes at most ${this.maxBytes} per artifact`);
    }
    if (upload.length !== undefined) await this.withinQuota(jobId, upload.path, upload.length);
    // Counted as it streams too: a body without (or with a lying) Content-Length is cut at the bound.
    let seen = 0;
    const max = this.maxBytes;
    const bounded = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        seen += chunk.length;
        if (seen > max) done(new DepotError(413, `${upload.path} is over ${max} bytes, the most this queen takes per artifact`));
        else done(null, chunk);
      },
    });
    body.on('error', (error) => bounded.destroy(error));
    const ref = await this.options.blobs.put(body.pipe(bounded));
    if (ref.digest !== upload.digest) {
      // Left unnamed, the blob goes with the next sweep.
      throw new DepotError(422, `${upload.path} arrived as ${ref.digest}, not the ${upload.digest} the ant sent`);
    }
    // Left unnamed when refused, the blob goes with the next sweep.
    if (upload.length !== ref.size) await this.withinQuota(jobId, upload.path, ref.size);
    const uploaded = { path: upload.path, mode: upload.mode, digest: ref.digest, size: ref.size };
    const file = masker === undefined ? uploaded : await maskArtifactFile(this.options.blobs, masker, uploaded);
    // Left unnamed, the blob goes with the next sweep.
    if (file === undefined) throw new DepotError(422, withheldLine(upload.path));
    if (known !== undefined) {
      if (known.digest !== file.digest) throw conflict();
      return { digest: known.digest, size: known.size, stored: false };
    }
    await catalog.record(
      jobId,
      taskType,
      attempt,
      { files: [file], missing: [], ...(upload.expiresAt === undefined ? {} : { expiresAt: upload.expiresAt }) },
      new Date(),
    );
    return { digest: ref.digest, size: ref.size, stored: true };
  }

  /** Refuses a file that would take the job's organisation or user past a hard artifact storage quota (issue 17). */
  private async withinQuota(jobId: string, path: string, bytes: number): Promise<void> {
    const breaches = (await this.options.store.quotas?.().artifactBreaches(jobId, bytes, Date.now())) ?? [];
    const hard = breaches.find((breach) => breach.level === 'hard');
    if (hard) throw new DepotError(413, `${path} (${bytes} bytes) was not stored: artifact storage quota, ${hard.message}`);
  }

  /** A blob the attempt may read: an artifact of the same job (what its `dependencies` name). */
  async open(antId: string, jobId: string, taskType: string, attempt: number, digest: string): Promise<Readable> {
    const catalog = this.catalogOrFail();
    try {
      checkDigest(digest);
    } catch (error) {
      throw new DepotError(400, (error as Error).message);
    }
    await this.holds(antId, jobId, taskType, attempt);
    if (!(await catalog.list(jobId, new Date())).some((r) => r.digest === digest)) {
      throw new DepotError(404, `job ${jobId} has no unexpired artifact ${digest}`);
    }
    return this.options.blobs.open(digest);
  }
}

import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, posix } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ArtifactCatalog } from '../../artifacts/catalog.js';
import { maskArtifactFile, withheldLine } from '../../artifacts/mask.js';
import { ArtifactQuotaExceeded, softQuotaLine } from '../../artifacts/quota.js';
import { type BlobStore, checkDigest } from '../../artifacts/store.js';
import { cacheJobId } from '../../engine/artifacts.js';
import type { Masker } from '../../security/masking.js';
import type { JobStore } from '../../store/store.js';
import { antOwner } from './hub.js';

/** 1 GiB: what a queen takes per artifact file from a remote ant unless told otherwise. */
export const DEFAULT_MAX_ARTIFACT_BYTES = 1024 ** 3;

/** Why a transfer was refused, as the HTTP status the route answers with. */
export class DepotError extends Error {
  override readonly name = 'DepotError';
  constructor(
    readonly status: 400 | 404 | 409 | 413 | 416 | 422 | 501,
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
  /** Where in the file this body starts: the offset the queen acknowledged (`uploaded`), to resume a cut upload. */
  readonly offset?: number;
  /** The whole file's size (the body is its bytes from `offset` on); default: the body's length. */
  readonly size?: number;
  /** The archive of the cache the attempt saved: stored, not recorded as an artifact (the queen records it with the result). */
  readonly cache?: boolean;
}

/** Where a file's upload stands on this queen. */
export interface UploadState {
  /** Bytes this queen holds of it: a resumed upload sends the rest from here. */
  readonly offset: number;
  /** Stored and recorded: nothing left to send. */
  readonly complete: boolean;
}

/** A part file untouched this long is an upload nobody will resume: removed on the next sweep. */
const PART_MAX_AGE_MS = 24 * 60 * 60 * 1000;

export interface AntArtifactDepotOptions {
  readonly store: JobStore;
  readonly blobs: BlobStore;
  readonly maxBytes?: number;
  /** The masker of the job's organisation's secrets: text uploads are stored masked (issue 17). */
  readonly masker?: (jobId: string) => Promise<Masker | undefined>;
  /**
   * Where uploads in progress are kept until whole. Default: the blob store's `uploadsDir` (shared by
   * the queens using it: any of them resumes a cut upload), else myrmex-ant-uploads in the OS temp folder.
   */
  readonly partsDir?: string;
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
  private readonly partsDir: string;
  /** The request writing each part file: a resumed upload supersedes one whose connection died unnoticed. */
  private readonly writing = new Map<string, { readonly body: Readable; readonly done: Promise<unknown> }>();
  private sweptAt = 0;

  constructor(private readonly options: AntArtifactDepotOptions) {
    this.catalog = options.store.artifacts?.();
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_ARTIFACT_BYTES;
    this.partsDir = options.partsDir ?? options.blobs.uploadsDir ?? join(tmpdir(), 'myrmex-ant-uploads');
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

  /** The part file of one file's upload by one ant for one attempt. */
  private partOf(antId: string, upload: Pick<ArtifactUpload, 'jobId' | 'taskType' | 'attempt' | 'path' | 'digest'>): string {
    const key = JSON.stringify([antId, upload.jobId, upload.taskType, upload.attempt, upload.path, upload.digest]);
    return join(this.partsDir, `${createHash('sha256').update(key).digest('hex').slice(0, 40)}.part`);
  }

  /** How much of a file this queen holds (what an ant whose upload was cut asks before resuming). */
  async uploaded(
    antId: string,
    upload: Pick<ArtifactUpload, 'jobId' | 'taskType' | 'attempt' | 'path' | 'digest' | 'cache'>,
  ): Promise<UploadState> {
    const catalog = this.catalogOrFail();
    const { jobId, taskType, attempt } = upload;
    await this.holds(antId, jobId, taskType, attempt);
    if (upload.cache && (await this.options.blobs.has(upload.digest))) return { offset: 0, complete: true };
    const known = upload.cache
      ? undefined
      : (await catalog.ofAttempt(jobId, taskType, attempt, new Date(0))).find((f) => f.path === upload.path);
    if (known !== undefined) return { offset: known.size, complete: true };
    const size = await stat(this.partOf(antId, upload)).then(
      (s) => s.size,
      () => 0,
    );
    return { offset: size, complete: false };
  }

  /** Removes part files of uploads abandoned long ago, at most once an hour. */
  private async sweepParts(now: number): Promise<void> {
    if (now - this.sweptAt < PART_MAX_AGE_MS / 24) return;
    this.sweptAt = now;
    for (const name of await readdir(this.partsDir).catch(() => [])) {
      const path = join(this.partsDir, name);
      const old = await stat(path).then(
        (s) => now - s.mtimeMs > PART_MAX_AGE_MS,
        () => false,
      );
      if (old) await rm(path, { force: true });
    }
  }

  /**
   * Takes the bytes of `body` into the upload's part file from `offset` on; resolves with the part
   * file once it holds the whole file. The body is counted as it streams: a body without (or with
   * a lying) Content-Length is cut at the bound.
   */
  private async take(antId: string, upload: ArtifactUpload, body: Readable, size: number): Promise<string> {
    const part = this.partOf(antId, upload);
    const offset = upload.offset ?? 0;
    const previous = this.writing.get(part);
    if (previous) {
      previous.body.destroy();
      await previous.done;
    }
    await mkdir(this.partsDir, { recursive: true });
    await this.sweepParts(Date.now());
    const held = await stat(part).then(
      (s) => s.size,
      () => 0,
    );
    if (offset > held) {
      body.resume();
      throw new DepotError(416, `${upload.path}: this queen holds ${held} bytes of it, not ${offset}; resume from ${held}`);
    }
    // Resuming from further back (the ant started over): what came after goes.
    if (held > offset) await truncate(part, offset);
    let seen = offset;
    const max = this.maxBytes;
    const bounded = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        seen += chunk.length;
        if (seen > max) done(new DepotError(413, `${upload.path} is over ${max} bytes, the most this queen takes per artifact`));
        else done(null, chunk);
      },
    });
    // Bytes that arrived before the connection broke stay in the part file: that is what a resume continues from.
    const done = pipeline(body, bounded, createWriteStream(part, { flags: 'a' }));
    const entry = { body, done: done.catch(() => undefined) };
    this.writing.set(part, entry);
    try {
      await done;
    } finally {
      if (this.writing.get(part) === entry) this.writing.delete(part);
    }
    if (seen !== size) throw new DepotError(400, `${upload.path}: the body ended at byte ${seen} of ${size}`);
    return part;
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
    if (upload.cache) return this.receiveCache(antId, upload, body);
    const known = (await catalog.ofAttempt(jobId, taskType, attempt, new Date(0))).find((f) => f.path === upload.path);
    const conflict = () => new DepotError(409, `attempt ${attempt} of ${jobId}/${taskType} already has ${upload.path} with other content`);
    if (known?.digest === upload.digest) return { digest: known.digest, size: known.size, stored: false };
    // A masked file is recorded under its masked digest: a re-send is known only once masked again.
    const masker = await this.options.masker?.(jobId);
    if (known !== undefined && (masker === undefined || masker.empty)) throw conflict();
    const size = upload.size ?? (upload.length === undefined ? undefined : (upload.offset ?? 0) + upload.length);
    if (size === undefined) throw new DepotError(400, `${upload.path}: give its size (x-myrmex-size or Content-Length)`);
    if (size > this.maxBytes) {
      throw new DepotError(413, `${upload.path} is ${size} bytes; this queen takes at most ${this.maxBytes} per artifact`);
    }
    await this.withinQuota(jobId, upload.path, size);
    const part = await this.take(antId, upload, body, size);
    const ref = await this.options.blobs.put(createReadStream(part)).finally(() => rm(part, { force: true }));
    if (ref.digest !== upload.digest) {
      // Left unnamed, the blob goes with the next sweep.
      throw new DepotError(422, `${upload.path} arrived as ${ref.digest}, not the ${upload.digest} the ant sent`);
    }
    const uploaded = { path: upload.path, mode: upload.mode, digest: ref.digest, size: ref.size };
    const file = masker === undefined ? uploaded : await maskArtifactFile(this.options.blobs, masker, uploaded);
    // Left unnamed, the blob goes with the next sweep.
    if (file === undefined) throw new DepotError(422, withheldLine(upload.path));
    if (known !== undefined) {
      if (known.digest !== file.digest) throw conflict();
      return { digest: known.digest, size: known.size, stored: false };
    }
    // The authoritative quota check: `withinQuota` above only spares sending a file that cannot fit.
    const { warnings } = await catalog
      .record(
        jobId,
        taskType,
        attempt,
        { files: [file], missing: [], ...(upload.expiresAt === undefined ? {} : { expiresAt: upload.expiresAt }) },
        new Date(),
      )
      .catch((error: unknown) => {
        // Left unnamed, the blob goes with the next sweep.
        throw error instanceof ArtifactQuotaExceeded ? new DepotError(413, error.message) : error;
      });
    if (warnings.length > 0) {
      const at = new Date();
      await this.options.store.appendLogs(
        warnings.map((w) => ({ jobId, taskType, attempt, stream: 'system' as const, at, text: softQuotaLine(w) })),
      );
    }
    return { digest: ref.digest, size: ref.size, stored: true };
  }

  /**
   * Stores a cache archive as it came (an archive is not masked, as on the embedded ant); a re-send
   * of one already stored is acknowledged without being stored again.
   */
  private async receiveCache(
    antId: string,
    upload: ArtifactUpload,
    body: Readable,
  ): Promise<{ digest: string; size: number; stored: boolean }> {
    const size = upload.size ?? (upload.length === undefined ? undefined : (upload.offset ?? 0) + upload.length);
    if (size === undefined) throw new DepotError(400, `${upload.path}: give its size (x-myrmex-size or Content-Length)`);
    if (await this.options.blobs.has(upload.digest)) {
      body.resume();
      return { digest: upload.digest, size, stored: false };
    }
    if (size > this.maxBytes) throw new DepotError(413, `the cache is ${size} bytes; this queen takes at most ${this.maxBytes} per file`);
    await this.withinQuota(upload.jobId, upload.path, size);
    const part = await this.take(antId, upload, body, size);
    const ref = await this.options.blobs.put(createReadStream(part)).finally(() => rm(part, { force: true }));
    // Left unnamed, the blob goes with the next sweep.
    if (ref.digest !== upload.digest)
      throw new DepotError(422, `the cache arrived as ${ref.digest}, not the ${upload.digest} the ant sent`);
    return { digest: ref.digest, size: ref.size, stored: true };
  }

  /**
   * Refuses, before its bytes are taken, a file that would take the job's organisation or user past a
   * hard artifact storage quota (issue 17); not under a lock, so `catalog.record` judges again.
   */
  private async withinQuota(jobId: string, path: string, bytes: number): Promise<void> {
    const breaches = (await this.options.store.quotas?.().artifactBreaches(jobId, bytes, Date.now())) ?? [];
    const hard = breaches.find((breach) => breach.level === 'hard');
    if (hard) throw new DepotError(413, `${path} (${bytes} bytes) was not stored: artifact storage quota, ${hard.message}`);
  }

  /** A blob the attempt may read: an artifact of the same job (what its `dependencies` name) or a saved cache of its job type. */
  async open(antId: string, jobId: string, taskType: string, attempt: number, digest: string): Promise<Readable> {
    const catalog = this.catalogOrFail();
    try {
      checkDigest(digest);
    } catch (error) {
      throw new DepotError(400, (error as Error).message);
    }
    await this.holds(antId, jobId, taskType, attempt);
    const now = new Date();
    const holds = async (owner: string) => (await catalog.list(owner, now)).some((r) => r.digest === digest);
    const jobType = (await this.options.store.job(jobId))?.jobType;
    if (!(await holds(jobId)) && (jobType === undefined || !(await holds(cacheJobId(jobType))))) {
      throw new DepotError(404, `job ${jobId} has no unexpired artifact or cache ${digest}`);
    }
    return this.options.blobs.open(digest);
  }
}

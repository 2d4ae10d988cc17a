import type { ArtifactFile, ArtifactManifest } from './collect.js';
import type { ArtifactRecording } from './quota.js';

/** One stored file of one task attempt, as the API lists it. */
export interface ArtifactRecord extends ArtifactFile {
  readonly jobId: string;
  readonly taskType: string;
  readonly attempt: number;
  readonly createdAt: Date;
  readonly expiresAt?: Date;
}

/**
 * Which task attempt left which blobs: the index over the BlobStore, kept in the job database so
 * every queen sees the same artifacts. Rows are written once per attempt and never changed; expiry
 * deletes rows, and a blob no row names is swept from the BlobStore.
 */
export interface ArtifactCatalog {
  /**
   * Records what an attempt left; recording the same attempt again changes nothing. Where the store
   * keeps quotas, the files not yet recorded are judged against the job's organisation's and user's
   * artifact storage quotas in the same transaction: a hard one throws `ArtifactQuotaExceeded` and
   * records nothing, soft ones come back as warnings.
   */
  record(jobId: string, taskType: string, attempt: number, manifest: ArtifactManifest, at: Date): Promise<ArtifactRecording>;
  /** Every unexpired file of the job, by task, attempt and path. */
  list(jobId: string, now: Date): Promise<readonly ArtifactRecord[]>;
  /** The unexpired files of one attempt (what a dependent task downloads). */
  ofAttempt(jobId: string, taskType: string, attempt: number, now: Date): Promise<readonly ArtifactFile[]>;
  /** Deletes the rows whose expiry is at or before `now`; returns how many went. */
  expire(now: Date): Promise<number>;
  /** Digests some row still names: what `BlobStore.sweep` must keep. */
  liveDigests(): Promise<Set<string>>;
}

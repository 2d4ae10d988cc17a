import { sql } from 'kysely';
import type { ArtifactCatalog, ArtifactFile, ArtifactManifest, ArtifactRecord } from '../../artifacts/index.js';
import { ArtifactQuotaExceeded, type ArtifactRecording, NOTHING_TO_SAY } from '../../artifacts/quota.js';
import { judge } from '../../security/quotas.js';
import { lockArtifactQuotas, measure } from './quotas.js';
import type { Executor, SqlDialect } from './sql-store.js';

type Row = Record<string, unknown>;

/** Migration 0004-workflows: the artifact index (one row per file per attempt). */
export const WORKFLOWS_SCHEMA = `
  CREATE TABLE artifacts (
    job_id TEXT NOT NULL,
    task_type TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    path TEXT NOT NULL,
    digest TEXT NOT NULL,
    size $BIG NOT NULL,
    mode INTEGER NOT NULL,
    created_at $BIG NOT NULL,
    expires_at $BIG,
    PRIMARY KEY (job_id, task_type, attempt, path)
  );
  CREATE INDEX artifacts_expiry ON artifacts (expires_at) WHERE expires_at IS NOT NULL;
  CREATE INDEX artifacts_digest ON artifacts (digest)
`;

const file = (row: Row): ArtifactFile => ({
  path: String(row.path),
  digest: String(row.digest),
  size: Number(row.size),
  mode: Number(row.mode),
});

/** The same SQL on SQLite and PostgreSQL. */
export class SqlArtifactCatalog implements ArtifactCatalog {
  constructor(
    private readonly db: Executor,
    private readonly dialect: SqlDialect,
    private readonly ready: Promise<unknown> = Promise.resolve(),
  ) {}

  /**
   * Check and record are one transaction: the job's artifact storage quota rows are locked first
   * (organisation's, then the user's), so two queens recording for one organisation at once count one
   * after the other and never pass a hard limit together; a job under no such quota takes no lock.
   */
  async record(jobId: string, taskType: string, attempt: number, manifest: ArtifactManifest, at: Date): Promise<ArtifactRecording> {
    await this.ready;
    if (manifest.files.length === 0) return NOTHING_TO_SAY;
    return this.dialect.transaction(async (tx) => {
      const recording = await this.judge(tx, jobId, taskType, attempt, manifest, at.getTime());
      const values = manifest.files.map(
        (f) =>
          sql`(${jobId}, ${taskType}, ${attempt}, ${f.path}, ${f.digest}, ${f.size}, ${f.mode}, ${at.getTime()}, ${manifest.expiresAt ?? null})`,
      );
      // A result delivered twice (a remote ant's retry) records nothing new.
      await sql`INSERT INTO artifacts (job_id, task_type, attempt, path, digest, size, mode, created_at, expires_at)
        VALUES ${sql.join(values)} ON CONFLICT DO NOTHING`.execute(tx);
      return recording;
    });
  }

  /** Inside `record`'s transaction: throws when the files not yet recorded would pass a hard quota. */
  private async judge(
    tx: Executor,
    jobId: string,
    taskType: string,
    attempt: number,
    manifest: ArtifactManifest,
    now: number,
  ): Promise<ArtifactRecording> {
    // Files already expired are not counted as used, so they are not judged either.
    if (manifest.expiresAt !== undefined && manifest.expiresAt <= now) return NOTHING_TO_SAY;
    const limits = await lockArtifactQuotas(tx, this.dialect, jobId);
    if (limits.length === 0) return NOTHING_TO_SAY;
    // Only what this record adds counts: a file the attempt already has is in the usage already.
    const { rows } = await sql<Row>`SELECT path FROM artifacts WHERE job_id = ${jobId} AND task_type = ${taskType}
      AND attempt = ${attempt}`.execute(tx);
    const present = new Set(rows.map((row) => String(row.path)));
    const adding = manifest.files.filter((f) => !present.has(f.path));
    const bytes = adding.reduce((sum, f) => sum + f.size, 0);
    if (bytes === 0) return NOTHING_TO_SAY;
    const breaches = (await measure(tx, limits, now)).flatMap((usage) => judge(usage, usage.used, bytes, now) ?? []);
    const hard = breaches.find((b) => b.level === 'hard');
    if (hard !== undefined) throw new ArtifactQuotaExceeded(adding, hard.message);
    return { warnings: breaches.map((b) => b.message) };
  }

  async list(jobId: string, now: Date): Promise<readonly ArtifactRecord[]> {
    await this.ready;
    const { rows } = await sql<Row>`SELECT * FROM artifacts WHERE job_id = ${jobId}
      AND (expires_at IS NULL OR expires_at > ${now.getTime()}) ORDER BY task_type, attempt, path`.execute(this.db);
    return rows.map((row) => ({
      ...file(row),
      jobId: String(row.job_id),
      taskType: String(row.task_type),
      attempt: Number(row.attempt),
      createdAt: new Date(Number(row.created_at)),
      ...(row.expires_at === null || row.expires_at === undefined ? {} : { expiresAt: new Date(Number(row.expires_at)) }),
    }));
  }

  async ofAttempt(jobId: string, taskType: string, attempt: number, now: Date): Promise<readonly ArtifactFile[]> {
    await this.ready;
    const { rows } = await sql<Row>`SELECT path, digest, size, mode FROM artifacts
      WHERE job_id = ${jobId} AND task_type = ${taskType} AND attempt = ${attempt}
      AND (expires_at IS NULL OR expires_at > ${now.getTime()}) ORDER BY path`.execute(this.db);
    return rows.map(file);
  }

  async expire(now: Date): Promise<number> {
    await this.ready;
    const result = await sql`DELETE FROM artifacts WHERE expires_at IS NOT NULL AND expires_at <= ${now.getTime()}`.execute(this.db);
    return Number(result.numAffectedRows ?? 0);
  }

  async liveDigests(): Promise<Set<string>> {
    await this.ready;
    const { rows } = await sql<Row>`SELECT DISTINCT digest FROM artifacts`.execute(this.db);
    return new Set(rows.map((row) => String(row.digest)));
  }
}

import { sql } from 'kysely';
import type { ArtifactCatalog, ArtifactFile, ArtifactManifest, ArtifactRecord } from '../../artifacts/index.js';
import type { Executor } from './sql-store.js';

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

/** The same SQL on SQLite and PostgreSQL; each statement is atomic on its own, so no transaction is needed. */
export class SqlArtifactCatalog implements ArtifactCatalog {
  constructor(
    private readonly db: Executor,
    private readonly ready: Promise<unknown> = Promise.resolve(),
  ) {}

  async record(jobId: string, taskType: string, attempt: number, manifest: ArtifactManifest, at: Date): Promise<void> {
    await this.ready;
    if (manifest.files.length === 0) return;
    const values = manifest.files.map(
      (f) =>
        sql`(${jobId}, ${taskType}, ${attempt}, ${f.path}, ${f.digest}, ${f.size}, ${f.mode}, ${at.getTime()}, ${manifest.expiresAt ?? null})`,
    );
    // A result delivered twice (a remote ant's retry) records nothing new.
    await sql`INSERT INTO artifacts (job_id, task_type, attempt, path, digest, size, mode, created_at, expires_at)
      VALUES ${sql.join(values)} ON CONFLICT DO NOTHING`.execute(this.db);
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

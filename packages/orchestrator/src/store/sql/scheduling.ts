import { sql } from 'kysely';
import type { EndedAttempt, SchedulingReads } from '../scheduling.js';
import type { Executor } from './sql-store.js';

type Row = Record<string, unknown>;

/** Migration 0007-scheduling: ended attempts by end time, for history and usage (both dialects). */
export const SCHEDULING_SCHEMA = `
  CREATE INDEX attempts_ended ON attempts (ended_at) WHERE ended_at IS NOT NULL;
`;

/** Both dialects: plain SQL over the attempts and jobs tables. */
export class SqlSchedulingReads implements SchedulingReads {
  constructor(
    private readonly db: Executor,
    private readonly ready: Promise<unknown>,
  ) {}

  async endedAttempts(since: number, limit: number): Promise<readonly EndedAttempt[]> {
    await this.ready;
    const { rows } =
      await sql<Row>`SELECT a.job_id, a.task_type, a.attempt, a.state, a.started_at, a.ended_at, j.job_type, j.version, j.params, j.org
      FROM attempts a JOIN jobs j ON j.id = a.job_id
      WHERE a.ended_at IS NOT NULL AND a.ended_at >= ${since}
      ORDER BY a.ended_at DESC LIMIT ${limit}`.execute(this.db);
    return rows.map((r) => ({
      jobId: String(r.job_id),
      taskType: String(r.task_type),
      attempt: Number(r.attempt),
      jobType: String(r.job_type),
      version: Number(r.version),
      params: JSON.parse(String(r.params ?? '{}')) as Record<string, unknown>,
      ...(typeof r.org === 'string' && { org: r.org }),
      state: String(r.state),
      startedAt: Number(r.started_at),
      endedAt: Number(r.ended_at),
    }));
  }
}

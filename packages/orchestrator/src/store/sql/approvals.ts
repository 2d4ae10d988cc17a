import { sql } from 'kysely';
import { AWAITING_APPROVAL } from '../../domain/approvals.js';
import type { ApprovalStore, ApprovalVote, LapsedApproval, NewApprovalVote } from '../approvals.js';
import { hotQueries } from './hot-queries.js';
import type { Executor } from './sql-store.js';

type Row = Record<string, unknown>;

/**
 * Migration 0008-approvals: the votes on MANUAL tasks. One vote per approver per round (the primary
 * key), so a retried or doubled request cannot count twice.
 */
export const APPROVALS_SCHEMA = `
  CREATE TABLE approval_votes (
    job_id TEXT NOT NULL,
    task_type TEXT NOT NULL,
    round $BIG NOT NULL,
    approver TEXT NOT NULL,
    decision TEXT NOT NULL,
    comment TEXT,
    roles TEXT NOT NULL,
    at $BIG NOT NULL,
    PRIMARY KEY (job_id, task_type, round, approver)
  )
`;

/** The task's current round: the seq of its latest timeline row into READY. */
const currentRound = (jobId: string, taskType: string) =>
  sql`(SELECT MAX(e.seq) FROM events e WHERE e.job_id = ${jobId} AND e.task_type = ${taskType} AND e.to_state = 'READY')`;

const waiting = sql`t.state = 'READY' AND t.reason LIKE ${`${AWAITING_APPROVAL}%`}`;

const toVote = (row: Row): ApprovalVote => ({
  jobId: String(row.job_id),
  taskType: String(row.task_type),
  round: Number(row.round),
  approver: String(row.approver),
  decision: row.decision === 'APPROVED' ? 'APPROVED' : 'REJECTED',
  ...(row.comment === null || row.comment === undefined ? {} : { comment: String(row.comment) }),
  roles: JSON.parse(String(row.roles)) as string[],
  at: new Date(Number(row.at)),
});

/** The same SQL on SQLite and PostgreSQL; every method is one statement, atomic on its own. */
export class SqlApprovalStore implements ApprovalStore {
  constructor(
    private readonly db: Executor,
    private readonly ready: Promise<unknown>,
  ) {}

  async vote(vote: NewApprovalVote): Promise<{ readonly recorded: boolean; readonly waiting: boolean }> {
    await this.ready;
    const { jobId, taskType } = vote;
    // The task's state is read by the insert itself: a vote is never filed after the decision committed.
    const result = await sql`INSERT INTO approval_votes (job_id, task_type, round, approver, decision, comment, roles, at)
      SELECT t.job_id, t.task_type, ${currentRound(jobId, taskType)}, ${vote.approver}, ${vote.decision}, ${vote.comment ?? null},
        ${JSON.stringify(vote.roles)}, ${vote.at.getTime()}
      FROM tasks t WHERE t.job_id = ${jobId} AND t.task_type = ${taskType} AND ${waiting}
      ON CONFLICT DO NOTHING`.execute(this.db);
    if (Number(result.numAffectedRows ?? 0) > 0) return { recorded: true, waiting: true };
    const { rows } =
      await sql<Row>`SELECT 1 AS one FROM tasks t WHERE t.job_id = ${jobId} AND t.task_type = ${taskType} AND ${waiting}`.execute(this.db);
    return { recorded: false, waiting: rows.length > 0 };
  }

  async currentVotes(jobId: string, taskType: string): Promise<readonly ApprovalVote[]> {
    await this.ready;
    const { rows } = await sql<Row>`SELECT * FROM approval_votes
      WHERE job_id = ${jobId} AND task_type = ${taskType} AND round = ${currentRound(jobId, taskType)} ORDER BY at, approver`.execute(
      this.db,
    );
    return rows.map(toVote);
  }

  async votes(jobId: string): Promise<readonly ApprovalVote[]> {
    await this.ready;
    const { rows } = await sql<Row>`SELECT * FROM approval_votes WHERE job_id = ${jobId} ORDER BY round, at, approver`.execute(this.db);
    return rows.map(toVote);
  }

  async lapsed(now: number, limit: number): Promise<readonly LapsedApproval[]> {
    await this.ready;
    const rows = (await hotQueries.lapsedApprovals(now, limit).execute(this.db)).rows as Row[];
    return rows.map((row) => ({
      jobId: String(row.job_id),
      taskType: String(row.task_type),
      jobType: String(row.job_type),
      version: Number(row.version),
      dueAt: Number(row.not_before),
    }));
  }
}

import { sql } from 'kysely';
import type { LogBatch } from '../store.js';
import type { Executor } from './sql-store.js';

/**
 * 0019-log-batches (issue 12): the log batches of remote ants stored so far, one row per attempt
 * and batch number. A batch re-sent after its acknowledgement was lost (to the same queen, or after
 * a reconnect to another queen of the group) finds its row and is not stored again: the database
 * decides, so every queen agrees. Written in the transaction that stores the batch's lines.
 */
export const LOG_BATCHES_SCHEMA = `
  CREATE TABLE log_batches (
    job_id TEXT NOT NULL,
    task_type TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    batch INTEGER NOT NULL,
    PRIMARY KEY (job_id, task_type, attempt, batch)
  )
`;

/** Records `batch` as stored; false when it already was (by any queen), and its lines must not be written again. */
export async function claimLogBatch(tx: Executor, batch: LogBatch): Promise<boolean> {
  const { rows } = await sql`INSERT INTO log_batches (job_id, task_type, attempt, batch)
    VALUES (${batch.jobId}, ${batch.taskType}, ${batch.attempt}, ${batch.batch})
    ON CONFLICT DO NOTHING RETURNING batch`.execute(tx);
  return rows.length > 0;
}

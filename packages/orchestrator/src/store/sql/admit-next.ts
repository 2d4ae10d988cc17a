import { type RawBuilder, sql } from 'kysely';
import type { AdmitNext } from '../store.js';
import { ADMITTED } from './hot-queries.js';
import { AT_ADMISSION } from './quotas.js';

/**
 * The due PENDING jobs in the due page's order (priority, then submission), locked, skipping the jobs another
 * queen holds (`FOR UPDATE SKIP LOCKED`): a walk of `jobs_pending` that reads at most `limit` rows of it however
 * long the queue. Its own statement so test/store/plans.test.ts can check its plan.
 */
export const duePick = (now: number, limit: number) =>
  sql`SELECT j.id, j.job_type, j.version, j.org, j.priority, j.seq, j.stop
      FROM jobs j WHERE j.state = 'PENDING' AND j.scheduled_at <= ${now}
      ORDER BY j.priority DESC, j.seq LIMIT ${limit}
      FOR UPDATE SKIP LOCKED`;

/**
 * AdmitNext as one statement (PostgreSQL: the writes ride in WITH). `duePick` (materialized, so its locks are
 * taken once), then in order: a job is *plain* when its kind is in `take`, it has no stop mark, its organisation
 * has no admission quota (those are judged by `refusedByQuota` in the locked path) and every one of its tasks is
 * still PENDING (a fresh plan: a job retry keeps its completed tasks); the jobs before the first one that is not
 * plain are considered (so nothing the supervisor must plan is jumped), and those of a capped type are admitted
 * while the type's admitted jobs (`jobs_type_admitted`) plus their rank among the considered jobs of the type stay
 * within its max_concurrency (a job held back still takes a rank: the count can only be under, never over).
 *
 * The count is read in this statement's snapshot. On its own that would not be safe across queens: a statement
 * that waits for a lock in READ COMMITTED re-checks only the rows it locks, so its count would miss what the
 * queen it waited for admitted. The caller therefore runs it, for capped kinds, in a transaction after locking
 * their `definition_types` rows (as every admission into a capped type does, `admittedCounts`): the statement
 * starts after the lock is granted and counts every admission committed before.
 *
 * The admitted jobs move to READY (`reason` 'admitted', revision bumped), their kinds' `start` tasks to READY
 * ('ready to run'), with the timeline rows an admission planned by the supervisor writes, in order (each job's
 * row, then its tasks' in plan order). Returns one row per timeline row with the summary columns beside it; a
 * single row with null timeline columns when nothing was admitted.
 *
 * Its commit does not wait for the WAL flush (`synchronous_commit` off for this transaction alone): nothing
 * outside the database acts on an admission, and whatever does act on one (the claim that starts its task)
 * commits synchronously later, which flushes the WAL up to its own record and so past the admission's. A server
 * crash can therefore lose only admissions nothing built on yet, and their jobs are simply PENDING again. That
 * takes one of the three flushes off a job's way from submit to start.
 */
export function admitNextStatement(request: AdmitNext, eventNotify: RawBuilder<unknown>): RawBuilder<Record<string, unknown>> {
  const at = request.at.getTime();
  const kinds =
    request.take.length > 0
      ? sql.join(
          request.take.map(
            (k) => sql`(CAST(${k.jobType} AS TEXT), CAST(${k.version} AS INTEGER), CAST(${k.maxConcurrency ?? null} AS INTEGER))`,
          ),
        )
      : // No kind known yet: a row that joins nothing, so the first due job stops the walk.
        sql`(CAST(NULL AS TEXT), CAST(NULL AS INTEGER), CAST(NULL AS INTEGER))`;
  const starts = request.take.flatMap((k) =>
    k.start.map(
      (taskType, position) =>
        sql`(CAST(${k.jobType} AS TEXT), CAST(${k.version} AS INTEGER), CAST(${taskType} AS TEXT), CAST(${position} AS INTEGER))`,
    ),
  );
  const startRows =
    starts.length > 0 ? sql.join(starts) : sql`(CAST(NULL AS TEXT), CAST(NULL AS INTEGER), CAST(NULL AS TEXT), CAST(NULL AS INTEGER))`;
  return sql<Record<string, unknown>>`
    WITH k (job_type, version, cap) AS (VALUES ${kinds}),
      ks (job_type, version, task_type, position) AS (VALUES ${startRows}),
      picked AS MATERIALIZED (${duePick(at, request.limit)}),
      -- A scalar subquery per picked job reads its tasks by key; a NOT EXISTS is planned as an anti-join that
      -- scans every task not PENDING (the whole history).
      o AS (SELECT p.id, p.job_type, p.version, k.cap, k.job_type IS NOT NULL AS known,
                   row_number() OVER (ORDER BY p.priority DESC, p.seq) AS r,
                   (k.job_type IS NOT NULL AND p.stop IS NULL
                    AND NOT EXISTS (SELECT 1 FROM quotas q WHERE q.org = p.org AND q.resource IN (${AT_ADMISSION}))
                    AND (SELECT COUNT(*) FROM tasks t WHERE t.job_id = p.id AND t.state <> 'PENDING') = 0) AS plain
            FROM picked p LEFT JOIN k ON k.job_type = p.job_type AND k.version = p.version),
      stop AS (SELECT COALESCE(MIN(r), ${request.limit + 1}) AS r FROM o WHERE NOT plain),
      considered AS (SELECT o.*, row_number() OVER (PARTITION BY o.job_type ORDER BY o.r) AS rank FROM o, stop WHERE o.r < stop.r),
      counted AS (SELECT job_type, COUNT(*) AS n FROM jobs
                  WHERE job_type IN (SELECT job_type FROM considered WHERE cap IS NOT NULL) AND state IN ${ADMITTED} GROUP BY job_type),
      a AS (SELECT c.id, c.r, c.job_type, c.version FROM considered c LEFT JOIN counted ON counted.job_type = c.job_type
            WHERE c.cap IS NULL OR COALESCE(counted.n, 0) + c.rank <= c.cap),
      uj AS (UPDATE jobs SET state = 'READY', reason = 'admitted', deadline_at = NULL, ended_at = NULL, revision = jobs.revision + 1
             FROM a WHERE jobs.id = a.id RETURNING jobs.id),
      ut AS (UPDATE tasks SET state = 'READY', reason = 'ready to run'
             FROM a JOIN ks ON ks.job_type = a.job_type AND ks.version = a.version
             WHERE tasks.job_id = a.id AND tasks.task_type = ks.task_type AND tasks.state = 'PENDING' RETURNING tasks.job_id),
      e AS (INSERT INTO events (job_id, task_type, from_state, to_state, at, reason)
            SELECT job_id, task_type, 'PENDING', 'READY', CAST(${at} AS BIGINT), reason FROM (
              SELECT a.r, -1 AS k, a.id AS job_id, CAST(NULL AS TEXT) AS task_type, 'admitted' AS reason FROM a
              UNION ALL SELECT a.r, ks.position, a.id, ks.task_type, 'ready to run'
                        FROM a JOIN ks ON ks.job_type = a.job_type AND ks.version = a.version) AS x
            ORDER BY r, k
            RETURNING *${eventNotify}),
      summary AS (SELECT (SELECT COUNT(*) FROM picked) AS picked, (SELECT COUNT(*) FROM a) AS admitted,
                         (SELECT COUNT(*) FROM considered) - (SELECT COUNT(*) FROM a) AS held,
                         o.job_type AS stop_type, o.version AS stop_version, o.known AS stop_known,
                         set_config('synchronous_commit', 'off', true) AS flush
                  FROM stop LEFT JOIN o ON o.r = stop.r)
    SELECT ev.*, summary.* FROM summary LEFT JOIN e AS ev ON true ORDER BY ev.seq`;
}

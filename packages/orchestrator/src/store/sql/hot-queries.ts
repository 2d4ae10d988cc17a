import { type RawBuilder, sql } from 'kysely';
import { AWAITING_APPROVAL } from '../../domain/approvals.js';
import { ADMITTED_JOB_STATES, type JobState, RUNNABLE_JOB_STATES, TERMINAL_JOB_STATES } from '../../domain/states.js';
import type { JobQuery } from '../../domain/types.js';

/**
 * The queries every queen runs all the time, in one place so test/store/plans.test.ts can check
 * with EXPLAIN that each is an index range scan (or an ordered walk of a partial index holding only
 * the rows it wants), never a scan or a sort of the whole history.
 */

// One parameter per value in one fragment (sql.join makes plain values parameters), not a fragment each.
export const list = (values: readonly unknown[]) => sql.join(values);
export const RUNNABLE = list(RUNNABLE_JOB_STATES);
/** Jobs whose READY tasks may start: runnable and not cancelled (a timed-out job still runs its always_run tasks). */
export const STARTABLE = sql`j.state IN (${RUNNABLE}) AND (j.stop IS NULL OR j.stop = 'timeout')`;
/**
 * Job states as literal lists, written exactly as the partial indexes of migration 0021 name them: a
 * partial index serves a query only when its condition appears in the query's (SQLite compares the
 * expressions; neither database can prove it of bound parameters).
 */
const literalStates = (states: readonly JobState[]) => sql.raw(`(${states.map((s) => `'${s}'`).join(', ')})`);
export const LIVE = literalStates(['PENDING', 'READY', 'EXECUTING', 'PAUSED']);
export const ADMITTED = literalStates(ADMITTED_JOB_STATES);
export const ENDED = literalStates(TERMINAL_JOB_STATES);
/** A condition on `state` (a parameter) with the partial index's condition it implies, so one of them serves it. */
const stateIs = (state: string) => {
  if ((TERMINAL_JOB_STATES as readonly string[]).includes(state)) return sql`state = ${state} AND state IN ${ENDED}`;
  return sql`state = ${state} AND state IN ${LIVE}`;
};

/** STARTABLE, on a row read by `jobStates`. */
export const startable = (row: { state?: unknown; stop?: unknown }): boolean =>
  (RUNNABLE_JOB_STATES as readonly unknown[]).includes(row.state) && (row.stop === null || row.stop === 'timeout');

/** The task columns a TaskRow is read from, besides its job id. */
export const TASK_ROW_COLUMNS = [
  'task_type',
  'state',
  'attempt',
  'run_attempts',
  'exit_code',
  'reason',
  'outputs',
  'route',
  'fatal',
  'not_before',
  'ended_at',
  'kill',
] as const;

/** The text with `%`, `_` and the backslash taken literally, in a LIKE pattern whose escape is the backslash. */
const likeLiteral = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * The conditions of a job list filter. Each has an index to walk (migrations 0006 and 0009): the
 * seq-ordered ones of state, type and organisation, `submitted_at` for a time range, and the id
 * index a prefix LIKE can range-scan (SQLite's NOCASE copy; on PostgreSQL the unique index of the
 * id itself, text_pattern_ops since migration 0024).
 */
export function jobFilter(query: JobQuery): RawBuilder<unknown>[] {
  const where: RawBuilder<unknown>[] = [];
  if (query.state) where.push(stateIs(query.state));
  if (query.jobType) where.push(sql`job_type = ${query.jobType}`);
  if (query.org) where.push(sql`org = ${query.org}`);
  if (query.submittedAfter) where.push(sql`submitted_at >= ${query.submittedAfter.getTime()}`);
  if (query.submittedBefore) where.push(sql`submitted_at < ${query.submittedBefore.getTime()}`);
  const text = query.text?.trim();
  if (text) where.push(sql`(id LIKE ${`${likeLiteral(text.toLowerCase())}%`} ESCAPE '\\' OR job_type = ${text})`);
  return where;
}

export const hotQueries = {
  // A page of the job list, newest first: a walk of the seq order (the primary key, or the
  // (state|job_type|org, seq) index of the filter) from the cursor, never a sort of the history.
  jobPage: (where: readonly RawBuilder<unknown>[], afterSeq: number | undefined, limit: number, offset: number) => {
    const conditions = afterSeq === undefined ? where : [...where, sql`seq < ${afterSeq}`];
    const clause = conditions.length > 0 ? sql`WHERE ${sql.join(conditions, sql` AND `)}` : sql``;
    return sql`SELECT * FROM jobs ${clause} ORDER BY seq DESC LIMIT ${limit} OFFSET ${offset}`;
  },
  job: (id: string) => sql`SELECT * FROM jobs WHERE id = ${id}`,
  // By id alone, the state judged by the caller (`startable`): with a state condition beside a
  // list of ids, SQLite (no statistics) walks every running job of the state index instead.
  jobStates: (ids: readonly string[], lock: RawBuilder<unknown> = sql``) =>
    sql`SELECT id, state, stop FROM jobs WHERE id IN (${list(ids)}) ${lock}`,
  tasks: (jobId: string) => sql`SELECT * FROM tasks WHERE job_id = ${jobId} ORDER BY position`,
  // Jobs by id with their tasks by primary key: the read each decision and each claimed task starts from.
  jobsWithTasks: (ids: readonly string[]) =>
    sql`SELECT j.*, ${sql.join(TASK_ROW_COLUMNS.map((c) => sql`t.${sql.ref(c)} AS ${sql.ref(`t_${c}`)}`))}
        FROM jobs j LEFT JOIN tasks t ON t.job_id = j.id WHERE j.id IN (${list(ids)}) ORDER BY j.seq, t.position`,
  timeline: (jobId: string) => sql`SELECT * FROM events WHERE job_id = ${jobId} ORDER BY seq`,
  logs: (jobId: string, afterSeq: number, limit: number, taskType?: string) =>
    sql`SELECT * FROM logs WHERE job_id = ${jobId} AND seq > ${afterSeq} ${taskType === undefined ? sql`` : sql`AND task_type = ${taskType}`} ORDER BY seq LIMIT ${limit}`,
  duePendingJobs: (now: number, limit: number, offset: number) =>
    sql`SELECT * FROM jobs WHERE state = 'PENDING' AND scheduled_at <= ${now} ORDER BY priority DESC, seq LIMIT ${limit} OFFSET ${offset}`,
  // CROSS JOIN: SQLite keeps tasks as the outer loop, walking the ready index in order (PostgreSQL plans it as a join).
  readyTasks: (now: number, limit: number, offset: number) =>
    sql`SELECT t.job_id, t.task_type, j.job_type, j.version, j.priority, j.submitted_at, j.seq, j.org
        FROM tasks t CROSS JOIN jobs j
        WHERE j.id = t.job_id AND t.state = 'READY' AND (t.not_before IS NULL OR t.not_before <= ${now}) AND ${STARTABLE}
        ORDER BY t.priority DESC, t.job_seq, t.position LIMIT ${limit} OFFSET ${offset}`,
  // A deadline is set only while a job runs (cleared when it ends or goes back to PENDING), so
  // leaving out PAUSED ones is enough; the supervisor checks the state again before timing one out.
  expiredJobs: (now: number) =>
    sql`SELECT * FROM jobs WHERE deadline_at IS NOT NULL AND stop IS NULL AND deadline_at <= ${now} AND state <> 'PAUSED' ORDER BY deadline_at`,
  // MANUAL tasks whose SLA has passed (every pass sweeps them). CROSS JOIN: SQLite walks the
  // tasks_waiting partial index up to now; joined the other way it reads every running job per pass.
  lapsedApprovals: (now: number, limit: number) =>
    sql`SELECT t.job_id, t.task_type, t.not_before, j.job_type, j.version
        FROM tasks t CROSS JOIN jobs j
        WHERE j.id = t.job_id AND t.state = 'READY' AND t.not_before IS NOT NULL AND t.not_before <= ${now}
          AND t.reason LIKE ${`${AWAITING_APPROVAL}%`} AND j.state IN (${RUNNABLE}) AND j.stop IS NULL
        ORDER BY t.not_before LIMIT ${limit}`,
  // Admitted jobs per type (the max_concurrency counts), from the partial index of admitted jobs.
  admittedByType: (jobTypes?: readonly string[]) =>
    sql`SELECT job_type, COUNT(*) AS n FROM jobs WHERE ${jobTypes === undefined ? sql`` : sql`job_type IN (${list(jobTypes)}) AND `}state IN ${ADMITTED}
        GROUP BY job_type`,
  // Running jobs in submission order: a walk of the partial index of live jobs.
  runnableJobs: () => sql`SELECT * FROM jobs WHERE state IN ${LIVE} AND state IN (${RUNNABLE}) ORDER BY seq`,
  expiredAttempts: (now: number, limit: number) =>
    sql`SELECT * FROM attempts WHERE state = 'EXECUTING' AND lease_until < ${now} ORDER BY lease_until LIMIT ${limit}`,
} satisfies Record<string, (...args: never[]) => RawBuilder<unknown>>;

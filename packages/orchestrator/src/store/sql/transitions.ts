import { type RawBuilder, sql } from 'kysely';
import { ADMITTED_JOB_STATES, type JobState } from '../../domain/states.js';
import type { TimelineEvent } from '../../domain/types.js';
import { type Changes, type JobWithTasks, StoreError } from '../store.js';
import { list } from './hot-queries.js';
import type { Row } from './rows.js';
import { valuesList } from './values.js';

/**
 * A job transition turned into statements, from the job's locked row and its tasks: the checks of
 * its expectations, its timeline rows and its writes. Pure: the store runs the statements, one
 * transition at a time (`apply`) or a page of them in one transaction (`applyMany`), where the
 * writes of every transition of the same shape share one `UPDATE … FROM (VALUES …)`.
 */

/** Thrown when an expectation fails: nothing of the transition is written. */
export class ExpectationFailed extends Error {}

/** A timeline row to insert: the store gives it its seq. */
export type NewEvent = Omit<TimelineEvent, 'seq'>;

type SqlType = 'TEXT' | 'BIGINT' | 'INTEGER';

/** A change's fields as columns, listed once: `assignments` runs for every transition of every job. */
type Columns = readonly (readonly [field: string, column: string, type: SqlType])[];
const columns = (byField: Readonly<Record<string, readonly [string, SqlType]>>): Columns =>
  Object.entries(byField).map(([field, [column, type]]) => [field, column, type] as const);

/** The columns a change may set, with the type a value is cast to (a VALUES list has none of its own on PostgreSQL). */
const JOB_COLUMNS = columns({
  state: ['state', 'TEXT'],
  reason: ['reason', 'TEXT'],
  stop: ['stop', 'TEXT'],
  startedAt: ['started_at', 'BIGINT'],
  endedAt: ['ended_at', 'BIGINT'],
  scheduledAt: ['scheduled_at', 'BIGINT'],
  retry: ['retry', 'INTEGER'],
  deadlineAt: ['deadline_at', 'BIGINT'],
});
const END_COLUMNS = columns({
  state: ['state', 'TEXT'],
  exitCode: ['exit_code', 'INTEGER'],
  reason: ['reason', 'TEXT'],
  endedAt: ['ended_at', 'BIGINT'],
  cpuMs: ['cpu_ms', 'BIGINT'],
});
const TASK_COLUMNS = columns({
  state: ['state', 'TEXT'],
  reason: ['reason', 'TEXT'],
  exitCode: ['exit_code', 'INTEGER'],
  outputs: ['outputs', 'TEXT'],
  route: ['route', 'TEXT'],
  fatal: ['fatal', 'INTEGER'],
  notBefore: ['not_before', 'BIGINT'],
  runAttempts: ['run_attempts', 'INTEGER'],
  endedAt: ['ended_at', 'BIGINT'],
  kill: ['kill', 'TEXT'],
});

function sqlValue(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'object') return JSON.stringify(value);
  return value;
}

interface Assignment {
  readonly type: SqlType;
  readonly value: unknown;
}

/** One row's update: its key (the table's primary key, in order) and its columns' new values. */
interface RowUpdate {
  readonly key: readonly (string | number)[];
  readonly sets: ReadonlyMap<string, Assignment>;
}

export interface Transition {
  readonly events: readonly NewEvent[];
  /** Every transition bumps the job's revision, whatever else it sets. */
  readonly job: RowUpdate;
  readonly tasks: readonly RowUpdate[];
  /** Attempt ends whose outcome decides nothing more (every transition's in one statement). */
  readonly ends: readonly RowUpdate[];
  /** The reaper's attempt ends: each must end its attempt, or the whole transition is refused. */
  readonly conditionalEnds: readonly RawBuilder<unknown>[];
}

/** Jobs by id with their tasks' states, to decide transitions from; `lock` makes it the read that serialises them. */
export const transitionRead = (ids: readonly string[], lock: RawBuilder<unknown>) =>
  sql`SELECT j.id, j.state AS job_state, j.revision, j.job_type, t.task_type, t.state, t.attempt
      FROM jobs j LEFT JOIN tasks t ON t.job_id = j.id WHERE j.id IN (${list(ids)}) ${lock}`;

/** A caller's read of a job (at a revision) as the rows `transitionRead` returns. */
export function basisRows({ job, tasks }: JobWithTasks): Row[] {
  const row = { id: job.id, job_state: job.state, revision: job.revision, job_type: job.jobType };
  return tasks.length === 0
    ? [{ ...row, task_type: null }]
    : tasks.map((task) => ({ ...row, task_type: task.taskType, state: task.state, attempt: task.attempt }));
}

/** The job-level expectations (state, revision); the read is the job's rows from `transitionRead`. */
export function checkJob(read: readonly Row[], changes: Changes): void {
  const job = read[0]!;
  const expected = changes.job;
  if (expected?.expect && !expected.expect.includes(String(job.job_state) as JobState)) throw new ExpectationFailed();
  if (expected?.revision !== undefined && Number(job.revision) !== expected.revision) throw new ExpectationFailed();
}

const admittedState = (state: unknown): boolean => (ADMITTED_JOB_STATES as readonly unknown[]).includes(state);

/** The max_concurrency an admission must be counted against, or undefined when it admits nothing new. */
export function admissionCap(read: readonly Row[], changes: Changes): number | undefined {
  const cap = changes.job?.admitWithin;
  return cap !== undefined && !admittedState(read[0]!.job_state) ? cap : undefined;
}

/** How the transition moves its type's count of admitted jobs: +1 into READY/EXECUTING/PAUSED, -1 out of them, else 0. */
export function admittedDelta(read: readonly Row[], changes: Changes): number {
  const from = read[0]!.job_state;
  return Number(admittedState(changes.job?.state ?? from)) - Number(admittedState(from));
}

function assignments(settable: Columns, change: object): Map<string, Assignment> {
  const sets = new Map<string, Assignment>();
  for (const [field, column, type] of settable) {
    const value = (change as Record<string, unknown>)[field];
    if (value !== undefined) sets.set(column, { type, value: sqlValue(value) });
  }
  return sets;
}

/**
 * The transition `changes` make to the job whose rows `read` holds. Throws ExpectationFailed when a
 * task's expectation fails. A row is written at most once per statement where writes share one
 * (PostgreSQL's WITH), so a second end of the same attempt is dropped and a task's changes merge in order.
 */
export function prepareTransition(jobId: string, changes: Changes, read: readonly Row[]): Transition {
  const at = changes.at;
  const from = String(read[0]!.job_state);
  const jobChange = changes.job;
  const events: NewEvent[] = [];
  const jobEvent = (): void => {
    if (jobChange?.state !== undefined && jobChange.state !== from) {
      events.push({ jobId, from, to: jobChange.state, at, reason: jobChange.reason ?? undefined });
    }
  };
  // An admission reads best with the job first; every other job transition follows its tasks'.
  const jobFirst = jobChange?.state === 'READY';
  if (jobFirst) jobEvent();

  const ends: RowUpdate[] = [];
  const conditionalEnds: RawBuilder<unknown>[] = [];
  const ended = new Set<string>();
  for (const end of changes.attempts ?? []) {
    const key = `${end.taskType}\u0000${end.attempt}`;
    if (ended.has(key)) continue;
    ended.add(key);
    if (end.expect === undefined) {
      ends.push({
        key: [jobId, end.taskType, end.attempt],
        sets: assignments(END_COLUMNS, {
          state: end.state,
          exitCode: end.exitCode ?? null,
          reason: end.reason ?? null,
          endedAt: at,
          cpuMs: end.cpuMs ?? null,
        }),
      });
      continue;
    }
    const conditions = [sql`job_id = ${jobId} AND task_type = ${end.taskType} AND attempt = ${end.attempt} AND state = 'EXECUTING'`];
    if (end.expect?.leaseBefore !== undefined) conditions.push(sql`lease_until < ${end.expect.leaseBefore}`);
    if (end.expect?.owner !== undefined) conditions.push(sql`owner = ${end.expect.owner}`);
    const update = sql`UPDATE attempts SET state = ${end.state}, exit_code = ${end.exitCode ?? null}, reason = ${end.reason ?? null},
          ended_at = ${at.getTime()}, cpu_ms = ${end.cpuMs ?? null}, lease_until = NULL WHERE ${sql.join(conditions, sql` AND `)}`;
    conditionalEnds.push(update);
  }

  const taskSets = new Map<string, Map<string, Assignment>>();
  const current = new Map(read.filter((r) => r.task_type !== null).map((r) => [String(r.task_type), r]));
  for (const change of changes.tasks ?? []) {
    const row = current.get(change.taskType);
    if (!row) throw new StoreError(`job ${jobId} has no task ${change.taskType}`);
    if (change.expect?.state !== undefined && row.state !== change.expect.state) throw new ExpectationFailed();
    if (change.expect?.attempt !== undefined && Number(row.attempt) !== change.expect.attempt) throw new ExpectationFailed();
    const sets = taskSets.get(change.taskType) ?? new Map<string, Assignment>();
    for (const [column, set] of assignments(TASK_COLUMNS, change)) sets.set(column, set);
    taskSets.set(change.taskType, sets);
    if (change.state !== undefined && change.state !== row.state) {
      events.push({ jobId, taskType: change.taskType, from: String(row.state), to: change.state, at, reason: change.reason ?? undefined });
      current.set(change.taskType, { ...row, state: change.state });
    }
  }
  if (!jobFirst) jobEvent();
  return {
    events,
    job: { key: [jobId], sets: assignments(JOB_COLUMNS, jobChange ?? {}) },
    tasks: [...taskSets].filter(([, sets]) => sets.size > 0).map(([taskType, sets]) => ({ key: [jobId, taskType], sets })),
    ends,
    conditionalEnds,
  };
}

/** Rows per statement, under both dialects' parameter limits. */
const CHUNK = 500;

/** One `UPDATE … FROM (VALUES …)` per set of columns (and per chunk) for the rows of `table`. */
function groupedUpdates(
  table: 'jobs' | 'tasks' | 'attempts',
  keys: readonly (readonly [string, SqlType])[],
  updates: readonly RowUpdate[],
  extra: readonly RawBuilder<unknown>[],
  where?: RawBuilder<unknown>,
): RawBuilder<unknown>[] {
  const shapes = new Map<string, RowUpdate[]>();
  for (const update of updates) {
    const shape = [...update.sets.keys()].join(',');
    const same = shapes.get(shape);
    if (same) same.push(update);
    else shapes.set(shape, [update]);
  }
  const statements: RawBuilder<unknown>[] = [];
  const name = sql.raw(table);
  const column = (i: number) => sql.raw(`c.column${i + 1}`);
  for (const group of shapes.values()) {
    const columns = [...group[0]!.sets.keys()];
    const set = [...columns.map((c, i) => sql`${sql.ref(c)} = ${column(keys.length + i)}`), ...extra];
    const match = sql.join(
      [...keys.map(([key], i) => sql`${name}.${sql.ref(key)} = ${column(i)}`), ...(where === undefined ? [] : [where])],
      sql` AND `,
    );
    // A column's type is the same in every row: it comes from the column.
    const casts = [...keys.map(([, type]) => type), ...columns.map((c) => group[0]!.sets.get(c)!.type)];
    for (let start = 0; start < group.length; start += CHUNK) {
      const values = valuesList(
        group.slice(start, start + CHUNK).map((update) => [...update.key, ...columns.map((c) => update.sets.get(c)!.value)]),
        casts,
      );
      statements.push(sql`UPDATE ${name} SET ${sql.join(set)} FROM (VALUES ${values}) AS c WHERE ${match}`);
    }
  }
  return statements;
}

const JOB_KEY = [['id', 'TEXT']] as const;
const TASK_KEY = [
  ['job_id', 'TEXT'],
  ['task_type', 'TEXT'],
] as const;
const ATTEMPT_KEY = [...TASK_KEY, ['attempt', 'INTEGER']] as const;
const stillExecuting = sql`attempts.state = 'EXECUTING'`;

/**
 * The writes of `transitions` other than the jobs' own updates: attempt ends, then task updates
 * grouped by shape. `guard`: a condition on each written row's job (see `casStatement`).
 */
function sideWrites(
  transitions: readonly Transition[],
  guard?: (jobId: RawBuilder<unknown>) => RawBuilder<unknown>,
): RawBuilder<unknown>[] {
  return [
    ...groupedUpdates(
      'attempts',
      ATTEMPT_KEY,
      transitions.flatMap((t) => t.ends),
      [sql`lease_until = NULL`],
      guard === undefined ? stillExecuting : sql`${stillExecuting} AND ${guard(sql`attempts.job_id`)}`,
    ),
    ...groupedUpdates(
      'tasks',
      TASK_KEY,
      transitions.flatMap((t) => t.tasks),
      [],
      guard?.(sql`tasks.job_id`),
    ),
  ];
}

const bumpRevision = sql`revision = jobs.revision + 1`;

/** The writes of `transitions` (distinct jobs): attempt ends, task updates, then the jobs' updates, grouped by shape. */
export function transitionWrites(transitions: readonly Transition[]): RawBuilder<unknown>[] {
  return [
    ...sideWrites(transitions),
    ...groupedUpdates(
      'jobs',
      JOB_KEY,
      transitions.map((t) => t.job),
      [bumpRevision],
    ),
  ];
}

/** Each job's update as a compare-and-set on the revision it was planned at (`… WHERE revision = r`), grouped by shape. */
function casUpdates(planned: readonly { readonly transition: Transition; readonly revision: number }[]): RawBuilder<unknown>[] {
  return groupedUpdates(
    'jobs',
    [...JOB_KEY, ['revision', 'INTEGER']],
    planned.map(({ transition, revision }) => ({ ...transition.job, key: [...transition.job.key, revision] })),
    [bumpRevision],
  );
}

/**
 * Transitions planned from reads at their revisions, for a dialect without writes in WITH (SQLite),
 * inside one transaction: `made` runs each job's compare-and-set update (returning the ids it made);
 * then `rest(made)` gives the other writes of those jobs' transitions (attempt ends, task updates).
 * Every write to a job's tasks bumps its revision, so a matching revision means the tasks are as
 * read: nothing is read again inside the transaction.
 */
export function casWrites(planned: readonly { readonly transition: Transition; readonly revision: number }[]): {
  readonly made: readonly RawBuilder<unknown>[];
  rest(made: ReadonlySet<string>): RawBuilder<unknown>[];
} {
  return {
    made: casUpdates(planned).map((update) => sql`${update} RETURNING jobs.id`),
    rest: (made) => sideWrites(planned.filter(({ transition }) => made.has(String(transition.job.key[0]))).map((p) => p.transition)),
  };
}

/**
 * Transitions planned from reads at their revisions, as one statement (PostgreSQL: writes in WITH):
 * each job's update is its compare-and-set (`revision = …`, taking the job's row lock, re-checked
 * on the newest row after a wait), and every other write and timeline row of a job happens only if
 * its job's was made. Every write to a job's tasks bumps its revision, so a matching revision means
 * the tasks are as read: nothing needs reading inside a transaction. Returns the timeline rows of
 * the jobs whose compare-and-set was made; a job that had moved on has none, so every transition
 * must have timeline rows (they are how the caller learns it was made). Distinct jobs.
 */
export function casStatement(
  planned: readonly { readonly transition: Transition; readonly revision: number }[],
  notify: RawBuilder<unknown>,
): RawBuilder<unknown> {
  const updates = casUpdates(planned);
  const made = sql.join(
    updates.map((_, i) => sql`SELECT id FROM ${sql.raw(`cas${i}`)}`),
    sql` UNION ALL `,
  );
  const guard = (jobId: RawBuilder<unknown>) => sql`${jobId} IN (${made})`;
  const transitions = planned.map((p) => p.transition);
  const writes = [
    ...updates.map((update, i) => sql`${sql.raw(`cas${i}`)} AS (${update} RETURNING jobs.id)`),
    ...sideWrites(transitions, guard).map((write, i) => sql`${sql.raw(`w${i}`)} AS (${write})`),
  ];
  const values = transitions.flatMap((t) =>
    t.events.map(
      (e) =>
        sql`(CAST(${e.jobId} AS TEXT), CAST(${e.taskType ?? null} AS TEXT), CAST(${e.from ?? null} AS TEXT), CAST(${e.to} AS TEXT),
             CAST(${e.at.getTime()} AS BIGINT), CAST(${e.reason ?? null} AS TEXT))`,
    ),
  );
  return sql`WITH ${sql.join(writes)}
    INSERT INTO events (job_id, task_type, from_state, to_state, at, reason)
    SELECT * FROM (VALUES ${sql.join(values)}) AS v WHERE ${guard(sql`v.column1`)} RETURNING *${notify}`;
}

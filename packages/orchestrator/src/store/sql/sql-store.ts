import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { ArtifactCatalog } from '../../artifacts/catalog.js';
import type { JobDefinition } from '../../definition/model.js';
import { decodeJobCursor, encodeJobCursor } from '../../domain/cursor.js';
import type { AntInfo, ApplyResult, DefinitionVersion, JobQuery, LogLine, Page, TimelineEvent } from '../../domain/types.js';
import type { ApprovalStore } from '../approvals.js';
import type { CircuitBreakerStore } from '../circuit-breakers.js';
import type { ConsumableStore } from '../consumables.js';
import type { QuotaStore } from '../quotas.js';
import type { SchedulingReads } from '../scheduling.js';
import { DEFAULT_ORG, ForeignResourceError, type SecurityStore } from '../security.js';
import {
  type AdmitNext,
  type AdmittedNext,
  type AttemptKey,
  type AttemptRow,
  type Change,
  type Changes,
  type Claim,
  type Claimed,
  type ClaimedNext,
  type ClaimNext,
  type JobRow,
  type JobStore,
  type JobWithTasks,
  type LeaseResult,
  type LogBatch,
  type LogQuery,
  type NewJob,
  type NewLogLine,
  type ReadyTask,
  StaleDefinitionError,
  StoreError,
  type TaskRow,
} from '../store.js';
import type { WorkflowEventStore } from '../workflow-events.js';
import { admitNextStatement } from './admit-next.js';
import * as antRows from './ants.js';
import { SqlApprovalStore } from './approvals.js';
import { SqlArtifactCatalog } from './artifacts.js';
import { SqlCircuitBreakerStore } from './circuit-breakers.js';
import { claimedEvents, claimNextStatement, claimWrites } from './claim-next.js';
import { SqlConsumableStore } from './consumables.js';
import { hotQueries, jobFilter, list, RUNNABLE, STARTABLE, startable, TASK_ROW_COLUMNS } from './hot-queries.js';
import { claimLogBatch } from './log-batches.js';
import type { DialectName } from './migrations.js';
import { claimsThatFit } from './placement.js';
import { QuotaPresence, refusedByQuota, SqlQuotaStore } from './quotas.js';
import { type Row, toAttempt, toDefinition, toEvent, toJob, toLog, toReadyTask, toTask } from './rows.js';
import { SqlSchedulingReads } from './scheduling.js';
import { checkOrgQuota, LIMITED_ORG, SqlSecurityStore } from './security.js';
import {
  admissionCap,
  admittedDelta,
  basisRows,
  casStatement,
  casWrites,
  checkJob,
  ExpectationFailed,
  type NewEvent,
  prepareTransition,
  type Transition,
  transitionRead,
  transitionWrites,
} from './transitions.js';
import { valuesList } from './values.js';
import { SqlWorkflowEvents } from './workflow-events.js';

/** What a store needs from a connection inside a transaction: Kysely's executor, a `trx` or a connection. */
export type Executor = Kysely<unknown>;

/**
 * What differs between the dialects; everything else is the same SQL through Kysely.
 * `transaction` must serialise writers: SQLite's `BEGIN IMMEDIATE`, PostgreSQL's row locks taken
 * by `lock` (`FOR UPDATE`, or `FOR UPDATE SKIP LOCKED` when `skip`).
 */
export interface SqlDialect {
  readonly name: DialectName;
  transaction<T>(work: (tx: Executor) => Promise<T>): Promise<T>;
  /** `of`: lock only that table's rows of a join (PostgreSQL's `FOR UPDATE OF`). */
  lock(skip: boolean, of?: string): RawBuilder<unknown>;
  /** Called inside the transaction for each job it changed that `eventNotify` did not already announce. */
  notify(tx: Executor, jobIds: readonly string[]): Promise<void>;
  /**
   * Added to the RETURNING list of the timeline insert, so the rows that record a change also
   * announce it (PostgreSQL folds the repeated `pg_notify` of one job into one notification): a
   * round trip less per transition. Empty where changes are announced after the commit.
   */
  readonly eventNotify: RawBuilder<unknown>;
  /** Whether INSERT, UPDATE and DELETE may run inside WITH (PostgreSQL), so one statement carries several writes. */
  readonly writesInWith: boolean;
  /** Called after the commit for each job it changed, with the timeline rows it wrote (all jobs' together). */
  committed(jobIds: readonly string[], events?: readonly TimelineEvent[]): void;
  /** Given by the store: delivers one change to this process's listeners. */
  attach(emit: (change: Change) => void): void;
}

/** Delivers a commit of this process's: one change per job, with the timeline rows it wrote for that job. */
export function deliverCommitted(emit: (change: Change) => void, jobIds: readonly string[], events: readonly TimelineEvent[] = []): void {
  const byJob = eventsByJob(events);
  for (const jobId of jobIds) {
    const own = byJob.get(jobId);
    emit(own === undefined ? { jobId } : { jobId, events: own });
  }
}

/** Timeline rows grouped by their job, each group in the rows' order. */
function eventsByJob(events: readonly TimelineEvent[]): Map<string, TimelineEvent[]> {
  const byJob = new Map<string, TimelineEvent[]>();
  for (const event of events) {
    const own = byJob.get(event.jobId);
    if (own === undefined) byJob.set(event.jobId, [event]);
    else own.push(event);
  }
  return byJob;
}

async function rows(query: RawBuilder<unknown>, db: Executor): Promise<Row[]> {
  return (await query.execute(db)).rows as Row[];
}
async function one(query: RawBuilder<unknown>, db: Executor): Promise<Row | undefined> {
  return (await rows(query, db))[0];
}
async function affected(query: RawBuilder<unknown>, db: Executor): Promise<number> {
  return Number((await query.execute(db)).numAffectedRows ?? 0);
}

/**
 * Submitted jobs in chunks that keep each statement under SQLite's parameter limit: at most 500
 * jobs and, unless one job alone has more, 3,000 tasks (PostgreSQL's go in one statement whatever
 * their number: insertSubmitted).
 */
function submitChunks(jobs: readonly NewJob[]): NewJob[][] {
  const chunks: NewJob[][] = [];
  let tasks = 0;
  for (const job of jobs) {
    const last = chunks.at(-1);
    if (last && last.length < 500 && tasks + job.taskTypes.length <= 3000) {
      last.push(job);
      tasks += job.taskTypes.length;
    } else {
      chunks.push([job]);
      tasks = job.taskTypes.length;
    }
  }
  return chunks;
}

/**
 * The store on SQL through Kysely: one implementation for SQLite and PostgreSQL; `SqlDialect`
 * holds the few differences. See JobStore for the contract.
 */
export class SqlStore implements JobStore {
  private readonly listeners = new Set<(change: Change) => void>();
  /** Called in each transaction that writes timeline rows, with them: lifecycle events go out through an outbox (src/events). */
  transitionsWriter?: (tx: Executor, transitions: readonly TimelineEvent[]) => Promise<void>;

  constructor(
    readonly description: string,
    protected readonly db: Kysely<unknown>,
    protected readonly dialect: SqlDialect,
    private readonly ready: Promise<unknown>,
  ) {
    ready.catch(() => undefined);
    dialect.attach((change) => this.emit(change));
  }

  /** Organisations, users, tokens, secrets and the audit log on this same database. */
  security(): SecurityStore {
    return new SqlSecurityStore(this.db, this.dialect, this.ready);
  }

  /** Quota limits per organisation and user, and what they have used (issue 17). */
  quotas(): QuotaStore {
    return new SqlQuotaStore(this.db, this.ready);
  }

  private quotaPresence?: QuotaPresence;

  /** Ended attempts with their jobs, for the scheduling framework (issue 13). */
  scheduling(): SchedulingReads {
    return new SqlSchedulingReads(this.db, this.ready);
  }

  /** Which task attempts left which artifact blobs, on this same database. */
  artifacts(): ArtifactCatalog {
    return new SqlArtifactCatalog(this.db, this.dialect, this.ready);
  }

  /** The votes on MANUAL tasks, on this same database (issue 14). */
  approvals(): ApprovalStore {
    return new SqlApprovalStore(this.db, this.ready);
  }

  /** Notifications, job origins, dead letters and webhook counters, on this same database (issue 14). */
  workflowEvents(): WorkflowEventStore {
    return new SqlWorkflowEvents(this.db, this.ready, this.security());
  }

  /** Consumable resources' pools and holds, on this same database (issue 14). */
  consumables(): ConsumableStore {
    return new SqlConsumableStore(this.db, this.dialect, this.ready);
  }

  /** The HTTP circuit breakers, on this same database so every queen sees one state per host (issue 14). */
  circuitBreakers(): CircuitBreakerStore {
    return new SqlCircuitBreakerStore(this.db, this.ready);
  }

  /** Resolves once the schema is migrated; rejects with the reason it cannot be. */
  async opened(): Promise<void> {
    await this.ready;
  }

  private async read(): Promise<Executor> {
    await this.ready;
    return this.db;
  }

  /** `jobs`: the jobs the work changed; `notified`: those its timeline rows already announced (see `eventNotify`). */
  private async write<T>(
    work: (tx: Executor) => Promise<{ value: T; jobs: readonly string[]; notified?: readonly TimelineEvent[] }>,
  ): Promise<T> {
    await this.ready;
    const { value, jobs, notified } = await this.dialect.transaction(async (tx) => {
      const result = await work(tx);
      const announced = new Set(result.notified?.map((event) => event.jobId));
      const left = result.jobs.filter((job) => !announced.has(job));
      if (left.length > 0) await this.dialect.notify(tx, left);
      return result;
    });
    if (jobs.length > 0) this.dialect.committed(jobs, notified);
    return value;
  }

  /** Delivers a change to this process's listeners (the dialect calls it: after a commit, or from LISTEN). */
  private emit(change: Change): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch {
        // A listener's failure is its own; the next change still reaches it.
      }
    }
  }

  onChange(listener: (change: Change) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Inserts the timeline rows, after the `writes` (statements without results) of the same
   * transition. Where the dialect has data-modifying WITH (PostgreSQL) the writes ride in the
   * insert's statement: a transition is one round trip, not one per table it touches.
   */
  private async events(tx: Executor, events: readonly NewEvent[], writes: readonly RawBuilder<unknown>[] = []): Promise<TimelineEvent[]> {
    const together = this.dialect.writesInWith && events.length > 0 && writes.length > 0;
    if (!together) for (const write of writes) await write.execute(tx);
    if (events.length === 0) return [];
    const values = valuesList(events.map((e) => [e.jobId, e.taskType ?? null, e.from ?? null, e.to, e.at.getTime(), e.reason ?? null]));
    if (this.dialect.name === 'sqlite') {
      // One writer hands out the AUTOINCREMENT keys in VALUES order: the rows are known, only their
      // seq is new, and it is counted back from the last one rather than read back with RETURNING.
      const { insertId } = await sql`INSERT INTO events (job_id, task_type, from_state, to_state, at, reason) VALUES ${values}`.execute(tx);
      const first = Number(insertId) - events.length + 1;
      const written = events.map((e, i): TimelineEvent => ({ ...e, seq: first + i }));
      await this.transitionsWriter?.(tx, written);
      return written;
    }
    const prefix = together ? sql`WITH ${sql.join(writes.map((write, i) => sql`${sql.raw(`w${i}`)} AS (${write})`))} ` : sql``;
    const inserted = await rows(
      sql`${prefix}INSERT INTO events (job_id, task_type, from_state, to_state, at, reason) VALUES ${values} RETURNING *${this.dialect.eventNotify}`,
      tx,
    );
    const written = inserted.map(toEvent).sort((a, b) => a.seq - b.seq);
    await this.transitionsWriter?.(tx, written);
    return written;
  }

  async saveDefinition(definition: JobDefinition, source: string, at: Date, org: string = DEFAULT_ORG): Promise<ApplyResult> {
    const json = JSON.stringify(definition);
    const jobType = definition.jobType;
    return this.write<ApplyResult>(async (tx) => {
      await sql`INSERT INTO definition_types (job_type, org) VALUES (${jobType}, ${org}) ON CONFLICT (job_type) DO NOTHING`.execute(tx);
      const owner = await one(sql`SELECT org FROM definition_types WHERE job_type = ${jobType} ${this.dialect.lock(false)}`, tx);
      if (String(owner?.org) !== org) throw new ForeignResourceError(`the job type '${jobType}' belongs to another organisation`);
      await sql`UPDATE definition_types SET disabled = 0 WHERE job_type = ${jobType}`.execute(tx);
      const latest = await one(
        sql`SELECT version, definition FROM definitions WHERE job_type = ${jobType} ORDER BY version DESC LIMIT 1`,
        tx,
      );
      if (latest && String(latest.definition) === json)
        return { value: { jobType, version: Number(latest.version), created: false }, jobs: [] };
      const version = latest ? Number(latest.version) + 1 : 1;
      await sql`INSERT INTO definitions (job_type, version, definition, source, created_at)
                VALUES (${jobType}, ${version}, ${json}, ${source}, ${at.getTime()})`.execute(tx);
      return { value: { jobType, version, created: true }, jobs: [] };
    });
  }

  async latestDefinitions(): Promise<readonly DefinitionVersion[]> {
    return (
      await rows(
        sql`SELECT d.*, t.disabled FROM definitions d JOIN definition_types t ON t.job_type = d.job_type
            WHERE d.version = (SELECT MAX(version) FROM definitions WHERE job_type = d.job_type) ORDER BY d.job_type`,
        await this.read(),
      )
    ).map(toDefinition);
  }

  async definitionVersions(jobType: string): Promise<readonly DefinitionVersion[]> {
    return (
      await rows(
        sql`SELECT d.*, t.disabled FROM definitions d JOIN definition_types t ON t.job_type = d.job_type
            WHERE d.job_type = ${jobType} ORDER BY d.version DESC`,
        await this.read(),
      )
    ).map(toDefinition);
  }

  async definition(jobType: string, version?: number): Promise<DefinitionVersion | undefined> {
    const which = version === undefined ? sql`ORDER BY d.version DESC LIMIT 1` : sql`AND d.version = ${version}`;
    const row = await one(
      sql`SELECT d.*, t.disabled FROM definitions d JOIN definition_types t ON t.job_type = d.job_type WHERE d.job_type = ${jobType} ${which}`,
      await this.read(),
    );
    return row ? toDefinition(row) : undefined;
  }

  async setDefinitionDisabled(jobType: string, disabled: boolean): Promise<boolean> {
    const changed = await this.write(async (tx) => ({
      value: await affected(sql`UPDATE definition_types SET disabled = ${disabled ? 1 : 0} WHERE job_type = ${jobType}`, tx),
      jobs: [],
    }));
    return changed > 0;
  }

  async createJob(job: NewJob): Promise<{ readonly job: JobRow; readonly events: readonly TimelineEvent[] }> {
    const { jobs, events } = await this.createJobs([job]);
    return { job: jobs[0]!, events };
  }

  async createJobs(jobs: readonly NewJob[]): Promise<{ readonly jobs: readonly JobRow[]; readonly events: readonly TimelineEvent[] }> {
    if (jobs.length === 0) return { jobs: [], events: [] };
    const atOnce = await this.createJobsAtOnce(jobs);
    if (atOnce !== undefined) return atOnce;
    return this.write(async (tx) => {
      const perOrg = new Map<string, { adding: number; at: number }>();
      for (const job of jobs) {
        const org = job.org ?? DEFAULT_ORG;
        const seen = perOrg.get(org);
        perOrg.set(org, { adding: (seen?.adding ?? 0) + 1, at: Math.max(seen?.at ?? 0, job.submittedAt.getTime()) });
      }
      if (!this.dialect.writesInWith) await this.checkLatest(tx, jobs);
      for (const [org, { adding, at }] of [...perOrg].sort(([a], [b]) => (a < b ? -1 : 1))) {
        await checkOrgQuota(tx, this.dialect, org, adding, at);
      }
      if (this.dialect.writesInWith) {
        const written = (await this.insertSubmitted(tx, jobs, false))!;
        return { value: written, jobs: written.jobs.map((job) => job.id), notified: written.events };
      }
      const created: JobRow[] = [];
      const events: TimelineEvent[] = [];
      for (const chunk of submitChunks(jobs)) {
        const values = sql.join(
          chunk.map(
            (job) =>
              sql`(${job.id}, ${job.jobType}, ${job.version}, 'PENDING', ${job.priority}, ${JSON.stringify(job.params)}, ${job.submittedAt.getTime()}, ${job.scheduledAt.getTime()}, ${job.org ?? DEFAULT_ORG}, ${job.submittedBy ?? null})`,
          ),
        );
        const inserted = await rows(
          sql`INSERT INTO jobs (id, job_type, version, state, priority, params, submitted_at, scheduled_at, org, submitted_by) VALUES ${values} RETURNING *`,
          tx,
        );
        const byId = new Map(inserted.map((row) => [String(row.id), toJob(row)]));
        const ordered = chunk.map((job) => byId.get(job.id)!);
        created.push(...ordered);
        // The job's priority and order ride on its tasks, so the ready queue is read in order from one index.
        const tasks = chunk.flatMap((job, i) =>
          job.taskTypes.map(
            (taskType, position) => sql`(${job.id}, ${taskType}, ${position}, 'PENDING', ${job.priority}, ${ordered[i]!.seq})`,
          ),
        );
        await sql`INSERT INTO tasks (job_id, task_type, position, state, priority, job_seq) VALUES ${sql.join(tasks)}`.execute(tx);
        events.push(
          ...(await this.events(
            tx,
            chunk.map((job) => ({ jobId: job.id, to: 'PENDING', at: job.submittedAt, reason: 'submitted' })),
          )),
        );
      }
      return { value: { jobs: created, events }, jobs: created.map((job) => job.id), notified: events };
    });
  }

  /** Throws StaleDefinitionError unless every `requireLatest` job's version is its type's latest and the type is enabled. */
  private async checkLatest(tx: Executor, jobs: readonly NewJob[]): Promise<void> {
    const wanted = new Map(jobs.filter((job) => job.requireLatest).map((job) => [job.jobType, job.version]));
    if (wanted.size === 0) return;
    const found = await rows(
      sql`SELECT t.job_type, t.disabled, (SELECT MAX(version) FROM definitions d WHERE d.job_type = t.job_type) AS version
          FROM definition_types t WHERE t.job_type IN (${sql.join([...wanted.keys()])})`,
      tx,
    );
    const latest = new Map(found.filter((row) => Number(row.disabled) === 0).map((row) => [String(row.job_type), Number(row.version)]));
    const stale = [...wanted].filter(([jobType, version]) => latest.get(jobType) !== version).map(([jobType]) => jobType);
    if (stale.length > 0) throw new StaleDefinitionError(stale);
  }

  /**
   * A submit where writes ride in WITH and no outbox must be written with them: one statement,
   * atomic on its own, that inserts the jobs only if every organisation exists without a
   * submission quota (and every `requireLatest` version is still the latest), instead of a
   * transaction (`BEGIN`, the organisation's read, the insert, `COMMIT`). With the queen's cached
   * definitions a submit on PostgreSQL, of one job or of thousands, is 1 round trip (3 with the
   * reads before it, 5 with the transaction). Undefined when the submit needs the transaction.
   */
  private async createJobsAtOnce(
    jobs: readonly NewJob[],
  ): Promise<{ readonly jobs: readonly JobRow[]; readonly events: readonly TimelineEvent[] } | undefined> {
    if (!this.dialect.writesInWith || this.transitionsWriter !== undefined) return undefined;
    const written = await this.insertSubmitted(await this.read(), jobs, true);
    if (written !== undefined)
      this.dialect.committed(
        written.jobs.map((job) => job.id),
        written.events,
      );
    return written;
  }

  /**
   * New jobs, their tasks and their first timeline rows in one statement (PostgreSQL: the inserts
   * ride in WITH; the tasks take their job's seq from the jobs' insert). The statement checks the
   * definitions (`requireLatest`) and, with `unlimitedOnly`, the organisations, and inserts nothing
   * if one fails: it then says which (a stale definition throws; an organisation that is absent or
   * has a quota gives undefined, for the transaction that counts its quota and names the problem).
   * The jobs travel as one JSON parameter the server reads as rows: a VALUES list took a bind
   * parameter per cell (11 per job, 3 per task), whose compiling, binding and planning kept a bulk
   * of 1,000 jobs (2 statements of 5,500 parameters) at 10-15k jobs/s. A job's tasks are named by
   * its task list, sent once per distinct list (a definition's), not as a row per job and task. Only
   * what the database hands out (the seqs, in insertion order) comes back.
   */
  private async insertSubmitted(
    tx: Executor,
    jobs: readonly NewJob[],
    unlimitedOnly: boolean,
  ): Promise<{ jobs: JobRow[]; events: TimelineEvent[] } | undefined> {
    const lists = new Map<readonly string[], number>();
    const tasks: { list: number; task_type: string; position: number }[] = [];
    const written = jobs.map((job) => {
      let list = lists.get(job.taskTypes);
      if (list === undefined) {
        list = lists.size;
        lists.set(job.taskTypes, list);
        for (const [position, taskType] of job.taskTypes.entries()) tasks.push({ list, task_type: taskType, position });
      }
      return {
        id: job.id,
        job_type: job.jobType,
        version: job.version,
        priority: job.priority,
        // Text inside the JSON: the server would refuse a \u0000 escape in a json value, and a text column keeps any.
        params: JSON.stringify(job.params),
        submitted_at: job.submittedAt.getTime(),
        scheduled_at: job.scheduledAt.getTime(),
        org: job.org ?? DEFAULT_ORG,
        submitted_by: job.submittedBy ?? null,
        latest: job.requireLatest === true,
        list,
      };
    });
    const orgProblems = unlimitedOnly
      ? sql`UNION ALL SELECT 'org', CAST(NULL AS TEXT) FROM (SELECT DISTINCT org FROM v) AS c LEFT JOIN orgs o ON o.id = c.org
            WHERE o.id IS NULL OR ${LIMITED_ORG}`
      : sql``;
    // Each row is inserted in request order, so its seqs, read back in their order, are the requests' in theirs.
    const [found] = await rows(
      sql`WITH v AS (SELECT * FROM ROWS FROM (json_to_recordset(${JSON.stringify(written)}::json) AS (id text, job_type text, version int,
                       priority int, params text, submitted_at bigint, scheduled_at bigint, org text, submitted_by text, latest boolean, list int))
                     WITH ORDINALITY AS v (id, job_type, version, priority, params, submitted_at, scheduled_at, org, submitted_by, latest, list, n)),
            p (problem, job_type) AS (
              SELECT 'definition', c.job_type FROM (SELECT DISTINCT job_type, version FROM v WHERE latest) AS c
              LEFT JOIN definition_types dt ON dt.job_type = c.job_type
              WHERE dt.job_type IS NULL OR dt.disabled <> 0
                    OR c.version <> (SELECT MAX(d.version) FROM definitions d WHERE d.job_type = c.job_type)
              ${orgProblems}),
            j AS (INSERT INTO jobs (id, job_type, version, state, priority, params, submitted_at, scheduled_at, org, submitted_by)
                  SELECT id, job_type, version, 'PENDING', priority, params, submitted_at, scheduled_at, org, submitted_by FROM v
                  WHERE NOT EXISTS (SELECT 1 FROM p) ORDER BY n RETURNING id, seq, priority, submitted_at),
            t AS (INSERT INTO tasks (job_id, task_type, position, state, priority, job_seq)
                  SELECT j.id, l.task_type, l.position, 'PENDING', j.priority, j.seq
                  FROM j JOIN v ON v.id = j.id
                  JOIN json_to_recordset(${JSON.stringify(tasks)}::json) AS l (list int, task_type text, position int) ON l.list = v.list),
            e AS (INSERT INTO events (job_id, to_state, at, reason) SELECT id, 'PENDING', submitted_at, 'submitted' FROM j ORDER BY seq
                  RETURNING seq${this.dialect.eventNotify})
          SELECT (SELECT MIN(problem) FROM p) AS problem, (SELECT STRING_AGG(DISTINCT job_type, ',') FROM p) AS job_types,
                 (SELECT json_agg(seq ORDER BY seq) FROM j) AS seqs, (SELECT json_agg(seq ORDER BY seq) FROM e) AS event_seqs`,
      tx,
    );
    const { problem, job_types, seqs, event_seqs } = found!;
    if (problem === 'definition') throw new StaleDefinitionError(String(job_types).split(','));
    if (problem === 'org') return undefined;
    // Built from what was written (toJob's shape) rather than read back.
    const created = written.map(
      (row, i): JobRow => ({
        id: row.id,
        jobType: row.job_type,
        version: row.version,
        state: 'PENDING',
        priority: row.priority,
        params: JSON.parse(row.params) as Record<string, unknown>,
        submittedAt: new Date(row.submitted_at),
        scheduledAt: new Date(row.scheduled_at),
        retry: 0,
        seq: (seqs as number[])[i]!,
        revision: 0,
        org: row.org,
        submittedBy: jobs[i]!.submittedBy,
      }),
    );
    const events = written.map(
      (row, i): TimelineEvent => ({
        seq: (event_seqs as number[])[i]!,
        jobId: row.id,
        to: 'PENDING',
        at: new Date(row.submitted_at),
        reason: 'submitted',
      }),
    );
    await this.transitionsWriter?.(tx, events);
    return { jobs: created, events };
  }

  async job(id: string): Promise<JobRow | undefined> {
    const row = await one(hotQueries.job(id), await this.read());
    return row ? toJob(row) : undefined;
  }

  async jobsWithTasks(ids: readonly string[]): Promise<ReadonlyMap<string, JobWithTasks>> {
    const found = new Map<string, { job: JobRow; tasks: TaskRow[] }>();
    if (ids.length === 0) return found;
    const db = await this.read();
    // Chunks keep each statement under the dialects' parameter limits.
    for (let start = 0; start < ids.length; start += 500) {
      const chunk = [...new Set(ids.slice(start, start + 500))];
      for (const row of await rows(hotQueries.jobsWithTasks(chunk), db)) {
        const id = String(row.id);
        let entry = found.get(id);
        if (!entry) {
          entry = { job: toJob(row), tasks: [] };
          found.set(id, entry);
        }
        if (row.t_task_type === null) continue;
        const task: Row = { job_id: id };
        for (const column of TASK_ROW_COLUMNS) task[column] = row[`t_${column}`];
        entry.tasks.push(toTask(task));
      }
    }
    return found;
  }

  async listJobs(query: JobQuery): Promise<Page<JobRow>> {
    const db = await this.read();
    const limit = Math.max(1, Math.min(query.limit ?? 50, 1000));
    const offset = Math.max(0, query.offset ?? 0);
    const where = jobFilter(query);
    let after: number | undefined;
    if (query.cursor !== undefined) {
      after = decodeJobCursor(query.cursor);
      if (after === undefined) throw new StoreError("cursor is not a job list cursor (pass back a page's nextCursor)");
    }
    // One row more than the page tells whether a next page exists; the cursor walks the seq index from there.
    const found = (await rows(hotQueries.jobPage(where, after, limit + 1, after === undefined ? offset : 0), db)).map(toJob);
    const items = found.slice(0, limit);
    const last = items.at(-1);
    // Counting reads every match (a million rows unfiltered): only when the caller asks for it.
    const clause = where.length > 0 ? sql`WHERE ${sql.join(where, sql` AND `)}` : sql``;
    const total = query.count === 'exact' ? Number((await one(sql`SELECT COUNT(*) AS n FROM jobs ${clause}`, db))!.n) : undefined;
    return {
      items,
      ...(total === undefined ? {} : { total }),
      limit,
      offset: after === undefined ? offset : 0,
      ...(found.length > limit && last ? { nextCursor: encodeJobCursor(last.seq) } : {}),
    };
  }

  async tasks(jobId: string): Promise<readonly TaskRow[]> {
    return (await rows(hotQueries.tasks(jobId), await this.read())).map(toTask);
  }

  async attempts(jobId: string): Promise<readonly AttemptRow[]> {
    return (
      await rows(
        sql`SELECT a.* FROM attempts a JOIN tasks t ON t.job_id = a.job_id AND t.task_type = a.task_type
            WHERE a.job_id = ${jobId} ORDER BY t.position, a.attempt`,
        await this.read(),
      )
    ).map(toAttempt);
  }

  async timeline(jobId: string): Promise<readonly TimelineEvent[]> {
    return (await rows(hotQueries.timeline(jobId), await this.read())).map(toEvent);
  }

  async apply(jobId: string, changes: Changes, basis?: JobWithTasks): Promise<readonly TimelineEvent[] | undefined> {
    try {
      if (basis !== undefined && this.oneStatement(changes, basis)) {
        const read = basisRows(basis);
        checkJob(read, changes);
        const transition = prepareTransition(jobId, changes, read);
        // Timeline rows are how the statement tells it was made; a transition without any takes the locked path.
        if (transition.events.length > 0) return (await this.casMany([{ jobId, transition, revision: basis.job.revision }]))[0];
      }
      return await this.write(async (tx) => {
        const events = await this.applyIn(tx, jobId, changes);
        return { value: events, jobs: [jobId], notified: events };
      });
    } catch (error) {
      if (error instanceof ExpectationFailed) return undefined;
      throw error;
    }
  }

  /**
   * Whether a transition planned from `basis` can be written as one compare-and-set statement
   * (`casStatement`): where writes ride in WITH, with no outbox to write in the same transaction,
   * planned at the basis's revision, and with nothing to count or to check inside the transaction.
   */
  private oneStatement(changes: Changes, basis: JobWithTasks): boolean {
    return this.dialect.writesInWith && this.transitionsWriter === undefined && this.plannedAtBasis(changes, basis);
  }

  /** Whether a transition planned from `basis` needs nothing counted or checked inside the transaction: a compare-and-set on the basis's revision decides it. */
  private plannedAtBasis(changes: Changes, basis: JobWithTasks): boolean {
    return (
      changes.job?.revision === basis.job.revision &&
      changes.job.admitWithin === undefined &&
      // An admission is judged against its organisation's quotas inside the locked transaction.
      !(changes.job.state === 'READY' && basis.job.state === 'PENDING') &&
      !changes.attempts?.some((end) => end.expect !== undefined)
    );
  }

  private async applyIn(tx: Executor, jobId: string, changes: Changes): Promise<TimelineEvent[]> {
    // The job's row first: every writer of this job takes it, so they run one after the other. Its
    // tasks come in the same round trip (only the job's row is locked: it is what serialises them).
    const read = await rows(transitionRead([jobId], this.dialect.lock(false, 'j')), tx);
    if (read.length === 0) throw new StoreError(`job ${jobId} does not exist`);
    checkJob(read, changes);
    const cap = admissionCap(read, changes);
    const jobType = String(read[0]!.job_type);
    if (cap !== undefined && ((await this.admittedCounts(tx, [jobType])).get(jobType) ?? 0) >= cap) throw new ExpectationFailed();
    const transition = prepareTransition(jobId, changes, read);
    // Conditional (the reaper's): whether it ended the attempt decides the whole transition.
    for (const end of transition.conditionalEnds) if ((await affected(end, tx)) === 0) throw new ExpectationFailed();
    return this.events(tx, transition.events, transitionWrites([transition]));
  }

  /**
   * Jobs admitted (READY, EXECUTING or PAUSED) per job type, counted under a lock on each type's
   * row, so two queens admitting jobs of one type at once count each other.
   */
  private async admittedCounts(tx: Executor, jobTypes: readonly string[]): Promise<Map<string, number>> {
    const types = [...new Set(jobTypes)].sort();
    await sql`SELECT job_type FROM definition_types WHERE job_type IN (${list(types)}) ORDER BY job_type ${this.dialect.lock(false)}`.execute(
      tx,
    );
    const counted = await rows(hotQueries.admittedByType(types), tx);
    return new Map(counted.map((r) => [String(r.job_type), Number(r.n)]));
  }

  /**
   * Compare-and-set transitions of distinct jobs as one statement (`casStatement`); each job's
   * timeline rows, or undefined where the job had moved on since its revision.
   */
  private async casMany(
    planned: readonly { readonly jobId: string; readonly transition: Transition; readonly revision: number }[],
  ): Promise<(TimelineEvent[] | undefined)[]> {
    await this.ready;
    const inserted = (await rows(casStatement(planned, this.dialect.eventNotify), this.db)).map(toEvent).sort((a, b) => a.seq - b.seq);
    const byJob = eventsByJob(inserted);
    if (byJob.size > 0) this.dialect.committed([...byJob.keys()], inserted);
    return planned.map(({ jobId }) => byJob.get(jobId));
  }

  /**
   * Compare-and-set transitions of distinct jobs in one transaction where writes do not ride in WITH
   * (SQLite): the jobs' updates at their revisions first, then the other writes and the timeline rows
   * of the jobs they made. Each job's timeline rows, or undefined where it had moved on.
   */
  private async casInTransaction(
    planned: readonly { readonly jobId: string; readonly transition: Transition; readonly revision: number }[],
  ): Promise<(TimelineEvent[] | undefined)[]> {
    return this.write(async (tx) => {
      const writes = casWrites(planned);
      const made = new Set<string>();
      for (const update of writes.made) for (const row of await rows(update, tx)) made.add(String(row.id));
      const taken = planned.filter(({ jobId }) => made.has(jobId));
      const events = await this.events(
        tx,
        taken.flatMap(({ transition }) => transition.events),
        writes.rest(made),
      );
      const byJob = eventsByJob(events);
      return {
        value: planned.map(({ jobId }) => (made.has(jobId) ? (byJob.get(jobId) ?? []) : undefined)),
        jobs: [...made],
        notified: events,
      };
    });
  }

  /**
   * `applyMany` as one compare-and-set statement when every transition qualifies (`oneStatement`,
   * with timeline rows); undefined when one does not, for the locked path.
   */
  private async applyManyAtOnce(
    batch: readonly { readonly jobId: string; readonly changes: Changes; readonly basis?: JobWithTasks }[],
  ): Promise<(TimelineEvent[] | undefined)[] | undefined> {
    const planned: { jobId: string; transition: Transition; revision: number }[] = [];
    const refused = new Set<number>();
    // SQLite has no writes in WITH, but its transaction needs no re-read either: see `casInTransaction`.
    const sqlite = this.dialect.name === 'sqlite';
    for (const [i, { jobId, changes, basis }] of batch.entries()) {
      if (basis === undefined || !(sqlite ? this.plannedAtBasis(changes, basis) : this.oneStatement(changes, basis))) return undefined;
      try {
        const read = basisRows(basis);
        checkJob(read, changes);
        const transition = prepareTransition(jobId, changes, read);
        if (transition.events.length === 0) return undefined;
        planned.push({ jobId, transition, revision: basis.job.revision });
      } catch (error) {
        if (!(error instanceof ExpectationFailed)) throw error;
        refused.add(i);
      }
    }
    const written = planned.length === 0 ? [] : sqlite ? await this.casInTransaction(planned) : await this.casMany(planned);
    let next = 0;
    return batch.map((_, i) => (refused.has(i) ? undefined : written[next++]));
  }

  async applyMany(
    batch: readonly { readonly jobId: string; readonly changes: Changes; readonly basis?: JobWithTasks }[],
  ): Promise<readonly (readonly TimelineEvent[] | undefined)[]> {
    if (batch.length === 0) return [];
    if (new Set(batch.map((entry) => entry.jobId)).size !== batch.length) throw new StoreError('applyMany takes each job at most once');
    if (batch.some((entry) => entry.changes.attempts?.some((end) => end.expect !== undefined))) {
      throw new StoreError('a conditional attempt end decides its whole transition: apply it on its own');
    }
    const atOnce = await this.applyManyAtOnce(batch);
    if (atOnce !== undefined) return atOnce;
    const now = Math.max(...batch.map((entry) => entry.changes.at.getTime()));
    // Read before the transaction (SQLite has one connection), and only for a batch that may admit.
    this.quotaPresence ??= new QuotaPresence(this.quotas());
    const judgeQuotas = batch.some((entry) => entry.changes.job?.state === 'READY') && (await this.quotaPresence.anySet(now));
    return this.write(async (tx) => {
      // Jobs another queen is writing are skipped, never waited for: their transitions are refused.
      const reads = new Map<string, Row[]>();
      for (let start = 0; start < batch.length; start += 500) {
        const ids = batch.slice(start, start + 500).map((entry) => entry.jobId);
        for (const row of await rows(transitionRead(ids, this.dialect.lock(true, 'j')), tx)) {
          const id = String(row.id);
          reads.set(id, [...(reads.get(id) ?? []), row]);
        }
      }
      const prepared = batch.map(({ jobId, changes }) => {
        const read = reads.get(jobId);
        if (!read) return undefined;
        try {
          checkJob(read, changes);
          return { read, transition: prepareTransition(jobId, changes, read), cap: admissionCap(read, changes) };
        } catch (error) {
          if (error instanceof ExpectationFailed) return undefined;
          throw error;
        }
      });
      // Admissions over an organisation's or user's hard quota are refused before max_concurrency counts them.
      const admitting = prepared.flatMap((p, i) => (p && admittedDelta(p.read, batch[i]!.changes) > 0 ? [batch[i]!.jobId] : []));
      const overQuota = judgeQuotas ? await refusedByQuota(tx, this.dialect, admitting, now) : new Set<string>();
      for (const [i, entry] of batch.entries()) if (overQuota.has(entry.jobId)) prepared[i] = undefined;
      const capped = new Set(prepared.flatMap((p) => (p?.cap === undefined ? [] : [String(p.read[0]!.job_type)])));
      const counts = capped.size > 0 ? await this.admittedCounts(tx, [...capped]) : new Map<string, number>();
      // In batch order, as `apply` one after the other would count: under the types' locks, each
      // transition taken moves its type's count of admitted jobs (an admission takes a free place).
      const taken = prepared.map((p, i) => {
        if (p === undefined) return undefined;
        const jobType = String(p.read[0]!.job_type);
        const admitted = counts.get(jobType) ?? 0;
        if (p.cap !== undefined && admitted >= p.cap) return undefined;
        if (capped.has(jobType)) counts.set(jobType, admitted + admittedDelta(p.read, batch[i]!.changes));
        return p.transition;
      });
      const transitions = taken.filter((t): t is Transition => t !== undefined);
      const events = await this.events(
        tx,
        transitions.flatMap((t) => t.events),
        transitionWrites(transitions),
      );
      const byJob = eventsByJob(events);
      return {
        value: batch.map((entry, i) => (taken[i] === undefined ? undefined : (byJob.get(entry.jobId) ?? []))),
        jobs: batch.filter((_, i) => taken[i] !== undefined).map((entry) => entry.jobId),
        notified: events,
      };
    });
  }

  async claim(claim: Claim): Promise<Claimed | undefined> {
    return (await this.claimMany([claim]))[0];
  }

  async claimMany(claims: readonly Claim[]): Promise<readonly Claimed[]> {
    if (claims.length === 0) return [];
    if (this.dialect.writesInWith && this.transitionsWriter === undefined && !claims.some((c) => c.resources !== undefined))
      return this.claimManyAtOnce(claims);
    return this.write(async (tx) => {
      const ids = [...new Set(claims.map((c) => c.jobId))];
      // Jobs another queen is writing are skipped, never waited for.
      const jobs = new Map(
        (await rows(hotQueries.jobStates(ids, this.dialect.lock(true)), tx)).filter(startable).map((r) => [String(r.id), r]),
      );
      // One claim per task, in claim order, of the jobs this transaction holds.
      const wanted = new Map<string, Claim>();
      for (const claim of claims) {
        const key = `${claim.jobId}\u0000${claim.taskType}`;
        if (jobs.has(claim.jobId) && !wanted.has(key)) wanted.set(key, claim);
      }
      // Claims whose resources another queen's attempts took first are refused here; their tasks stay READY.
      const fitting = new Set(await claimsThatFit(tx, [...wanted.values()], this.dialect.lock(false)));
      for (const [key, claim] of wanted) if (!fitting.has(claim)) wanted.delete(key);
      if (wanted.size === 0) return { value: [], jobs: [] };
      // Each step is one statement for the whole batch, not one per claim: the tasks that are still
      // READY (and due) move to EXECUTING, then their attempts and their jobs are written. An ant bound
      // to an organisation (column4) takes only that organisation's jobs, whatever placed it.
      const started = new Map(
        (
          await rows(
            sql`UPDATE tasks SET state = 'EXECUTING', attempt = attempt + 1, run_attempts = run_attempts + 1, not_before = NULL, kill = NULL
                FROM (VALUES ${sql.join(
                  [...wanted.values()].map(
                    (c) => sql`(${c.jobId}, ${c.taskType}, CAST(${c.at.getTime()} AS BIGINT), CAST(${c.antOrg ?? null} AS TEXT))`,
                  ),
                )}) AS c
                WHERE tasks.job_id = c.column1 AND tasks.task_type = c.column2 AND tasks.state = 'READY'
                  AND (tasks.not_before IS NULL OR tasks.not_before <= c.column3)
                  AND (c.column4 IS NULL OR c.column4 = (SELECT org FROM jobs WHERE jobs.id = tasks.job_id))
                RETURNING tasks.job_id, tasks.task_type, tasks.attempt, tasks.run_attempts`,
            tx,
          )
        ).map((r) => [`${String(r.job_id)}\u0000${String(r.task_type)}`, r]),
      );
      const taken: { claimed: Omit<Claimed, 'events'>; events: NewEvent[] }[] = [];
      const touched = new Set<string>();
      const attempts: RawBuilder<unknown>[] = [];
      const jobWrites = new Map<string, RawBuilder<unknown>>();
      for (const [key, claim] of wanted) {
        const task = started.get(key);
        if (!task) continue;
        const job = jobs.get(claim.jobId)!;
        const at = claim.at.getTime();
        const attempt = Number(task.attempt);
        const owner = claim.owner ?? claim.antId;
        attempts.push(
          sql`(${claim.jobId}, ${claim.taskType}, ${attempt}, 'EXECUTING', ${at}, ${claim.antId}, ${owner}, ${at + (claim.leaseMs ?? 30_000)},
               ${claim.resources === undefined ? null : JSON.stringify(claim.resources)})`,
        );
        const pending: NewEvent[] = [
          {
            jobId: claim.jobId,
            taskType: claim.taskType,
            from: 'READY',
            to: 'EXECUTING',
            at: claim.at,
            reason: `attempt ${attempt} on ant ${claim.antId}`,
          },
        ];
        // The job's row is locked, so its state read above holds: the first claim of a READY job starts it.
        const starts = job.state === 'READY';
        if (starts) {
          const deadline = claim.jobTimeoutMs === undefined ? null : at + claim.jobTimeoutMs;
          jobWrites.set(claim.jobId, sql`(${claim.jobId}, 1, CAST(${at} AS BIGINT), CAST(${deadline} AS BIGINT))`);
          pending.push({ jobId: claim.jobId, from: 'READY', to: 'EXECUTING', at: claim.at, reason: `task ${claim.taskType} started` });
          jobs.set(claim.jobId, { ...job, state: 'EXECUTING' });
        } else if (!jobWrites.has(claim.jobId)) {
          jobWrites.set(claim.jobId, sql`(${claim.jobId}, 0, CAST(NULL AS BIGINT), CAST(NULL AS BIGINT))`);
        }
        touched.add(claim.jobId);
        taken.push({
          claimed: { jobId: claim.jobId, taskType: claim.taskType, attempt, runAttempts: Number(task.run_attempts) },
          events: pending,
        });
      }
      if (touched.size === 0) return { value: [], jobs: [] };
      // Every touched job's revision moves; a job started here also gets its state, start and deadline.
      // The attempts and the jobs are written with the timeline rows (one statement where WITH takes
      // writes); each claim gets its own timeline rows back, in order.
      const events = await this.events(
        tx,
        taken.flatMap((t) => t.events),
        [
          sql`INSERT INTO attempts (job_id, task_type, attempt, state, started_at, ant_id, owner, lease_until, resources) VALUES ${sql.join(attempts)}`,
          sql`UPDATE jobs SET state = CASE WHEN c.column2 = 1 THEN 'EXECUTING' ELSE jobs.state END,
                started_at = CASE WHEN c.column2 = 1 THEN COALESCE(jobs.started_at, c.column3) ELSE jobs.started_at END,
                deadline_at = CASE WHEN c.column2 = 1 THEN c.column4 ELSE jobs.deadline_at END,
                revision = jobs.revision + 1
              FROM (VALUES ${sql.join([...jobWrites.values()])}) AS c WHERE jobs.id = c.column1`,
        ],
      );
      let next = 0;
      const claimed = taken.map((t) => {
        const own = events.slice(next, next + t.events.length);
        next += t.events.length;
        return { ...t.claimed, events: own };
      });
      return { value: claimed, jobs: [...touched], notified: events };
    });
  }

  /**
   * claimMany as one statement, atomic on its own, where writes ride in WITH (PostgreSQL) and no
   * outbox or placement resources need the transaction: the jobs are locked skipping those another
   * queen holds, the tasks still READY (and due, and of the ant's organisation) move to EXECUTING,
   * and their attempts, jobs and timeline rows are written by the same statement, in claim order
   * (the first claim of a READY job starts it). 5 round trips (`BEGIN`, lock, tasks, the rest,
   * `COMMIT`) become 1.
   */
  private async claimManyAtOnce(claims: readonly Claim[]): Promise<readonly Claimed[]> {
    const wanted = new Map<string, Claim>();
    for (const claim of claims) {
      const key = `${claim.jobId}\u0000${claim.taskType}`;
      if (!wanted.has(key)) wanted.set(key, claim);
    }
    const values = sql.join(
      [...wanted.values()].map((c, n) => {
        const at = c.at.getTime();
        return sql`(CAST(${n} AS INTEGER), CAST(${c.jobId} AS TEXT), CAST(${c.taskType} AS TEXT), CAST(${at} AS BIGINT),
                    CAST(${c.antOrg ?? null} AS TEXT), CAST(${c.antId} AS TEXT), CAST(${c.owner ?? c.antId} AS TEXT),
                    CAST(${at + (c.leaseMs ?? 30_000)} AS BIGINT), CAST(${c.jobTimeoutMs === undefined ? null : at + c.jobTimeoutMs} AS BIGINT))`;
      }),
    );
    const found = await rows(
      sql`WITH c (n, job_id, task_type, at, ant_org, ant_id, owner, lease_until, deadline) AS (VALUES ${values}),
            l AS MATERIALIZED (SELECT j.id, j.state, j.org FROM jobs j WHERE j.id IN (SELECT job_id FROM c) AND ${STARTABLE}
                               ORDER BY j.id ${this.dialect.lock(true)}),
            ${claimWrites(this.dialect.eventNotify)}
          ${claimedEvents}
          ORDER BY e.seq`,
      await this.read(),
    );
    const claimed = claimedByNumber(found);
    if (claimed.length > 0)
      this.dialect.committed(
        [...new Set(claimed.map((c) => c.jobId))],
        claimed.flatMap((c) => c.events),
      );
    return claimed;
  }

  async claimNext(request: ClaimNext): Promise<ClaimedNext | undefined> {
    if (!this.dialect.writesInWith || this.transitionsWriter !== undefined) return undefined;
    if (!Number.isInteger(request.limit) || request.limit < 1)
      throw new RangeError(`claimNext: limit must be a positive integer, got ${request.limit}`);
    const found = await rows(claimNextStatement(request, this.dialect.eventNotify), await this.read());
    const picked = (found[0]?.picked ?? []) as (Row & { claimable: boolean })[];
    const tasks = new Map(picked.map((row) => [`${String(row.job_id)}\u0000${String(row.task_type)}`, toReadyTask(row)]));
    const claimed = claimedByNumber(found.filter((row) => row.seq !== null)).map((c) => ({
      ...c,
      task: tasks.get(`${c.jobId}\u0000${c.taskType}`)!,
    }));
    if (claimed.length > 0)
      this.dialect.committed(
        [...new Set(claimed.map((c) => c.jobId))],
        claimed.flatMap((c) => c.events),
      );
    const loaded = new Map<string, JobWithTasks>();
    for (const entry of (found[0]?.loaded ?? []) as { job: Row; tasks: Row[] }[])
      loaded.set(String(entry.job.id), { job: toJob(entry.job), tasks: entry.tasks.map(toTask) });
    return { claimed, unclaimed: picked.filter((row) => !row.claimable).map(toReadyTask), loaded };
  }

  async admitNext(request: AdmitNext): Promise<AdmittedNext | undefined> {
    if (!this.dialect.writesInWith || this.transitionsWriter !== undefined) return undefined;
    if (!Number.isInteger(request.limit) || request.limit < 1)
      throw new RangeError(`admitNext: limit must be a positive integer, got ${request.limit}`);
    for (const kind of request.take) {
      if (kind.start.length === 0) throw new RangeError(`admitNext: take: kind ${kind.jobType} v${kind.version} starts no task`);
      if (kind.maxConcurrency !== undefined && !(Number.isInteger(kind.maxConcurrency) && kind.maxConcurrency >= 0))
        throw new RangeError(
          `admitNext: take: maxConcurrency of ${kind.jobType} must be a non-negative integer, got ${kind.maxConcurrency}`,
        );
    }
    const statement = admitNextStatement(request, this.dialect.eventNotify);
    const capped = [...new Set(request.take.filter((k) => k.maxConcurrency !== undefined).map((k) => k.jobType))].sort();
    // Capped kinds count inside the statement: their types' rows are locked first, in a statement of their own,
    // so the count is read in a snapshot taken after every other admitter of those types committed (see
    // `admitNextStatement`). Without them the statement is atomic on its own: one round trip.
    const found =
      capped.length === 0
        ? await rows(statement, await this.read())
        : await this.write(async (tx) => {
            await sql`SELECT job_type FROM definition_types WHERE job_type IN (${list(capped)}) ORDER BY job_type ${this.dialect.lock(false)}`.execute(
              tx,
            );
            const written = await rows(statement, tx);
            return { value: written, jobs: [], notified: [] };
          });
    const events = found.filter((row) => row.seq !== null).map(toEvent);
    const summary = found[0] ?? {};
    if (events.length > 0) this.dialect.committed([...new Set(events.map((event) => event.jobId))], events);
    return {
      events,
      admitted: Number(summary.admitted ?? 0),
      picked: Number(summary.picked ?? 0),
      held: Number(summary.held ?? 0),
      ...(summary.stop_type === null || summary.stop_type === undefined
        ? {}
        : { stoppedAt: { jobType: String(summary.stop_type), version: Number(summary.stop_version), known: Boolean(summary.stop_known) } }),
    };
  }

  async duePendingJobs(now: number, limit: number, offset = 0): Promise<readonly JobRow[]> {
    return (await rows(hotQueries.duePendingJobs(now, limit, offset), await this.read())).map(toJob);
  }

  async activeJobsByType(): Promise<ReadonlyMap<string, number>> {
    const found = await rows(hotQueries.admittedByType(), await this.read());
    return new Map(found.map((r) => [String(r.job_type), Number(r.n)]));
  }

  async readyTasks(now: number, limit: number, offset = 0): Promise<readonly ReadyTask[]> {
    return (await rows(hotQueries.readyTasks(now, limit, offset), await this.read())).map(toReadyTask);
  }

  async expiredJobs(now: number): Promise<readonly JobRow[]> {
    return (await rows(hotQueries.expiredJobs(now), await this.read())).map(toJob);
  }

  async nextWakeAt(after?: number): Promise<number | undefined> {
    const later = (column: string) => (after === undefined ? sql`` : sql`AND ${sql.ref(column)} > ${after}`);
    // Each branch its first row in order rather than a MIN: PostgreSQL plans a MIN twice (as an aggregate and as
    // this walk) and that planning, made at every call, cost it four times this form's (about 1.5 against 0.35 ms).
    const row = await one(
      sql`SELECT MIN(t) AS t FROM (
            SELECT (SELECT scheduled_at FROM jobs WHERE state = 'PENDING' ${later('scheduled_at')} ORDER BY scheduled_at LIMIT 1) AS t
            UNION ALL SELECT (SELECT not_before FROM tasks WHERE state = 'READY' AND not_before IS NOT NULL ${later('not_before')}
                              ORDER BY not_before LIMIT 1)
            UNION ALL SELECT (SELECT deadline_at FROM jobs WHERE deadline_at IS NOT NULL AND stop IS NULL AND state IN (${RUNNABLE})
                              ${later('deadline_at')} ORDER BY deadline_at LIMIT 1)
            UNION ALL SELECT (SELECT lease_until FROM attempts WHERE state = 'EXECUTING' ${later('lease_until')}
                              ORDER BY lease_until LIMIT 1)) AS wakes`,
      await this.read(),
    );
    return row?.t === null || row?.t === undefined ? undefined : Number(row.t);
  }

  async activeJobs(): Promise<readonly JobRow[]> {
    return (await rows(hotQueries.runnableJobs(), await this.read())).map(toJob);
  }

  async executingAttempts(owner?: string): Promise<readonly AttemptRow[]> {
    const mine = owner === undefined ? sql`` : sql`AND owner = ${owner}`;
    return (
      await rows(sql`SELECT * FROM attempts WHERE state = 'EXECUTING' ${mine} ORDER BY job_id, task_type, attempt`, await this.read())
    ).map(toAttempt);
  }

  async expiredAttempts(now: number, limit: number): Promise<readonly AttemptRow[]> {
    return (await rows(hotQueries.expiredAttempts(now, limit), await this.read())).map(toAttempt);
  }

  async renewLeases(owner: string, until: number, held: readonly AttemptKey[]): Promise<number> {
    if (held.length === 0) return 0;
    return this.write(async (tx) => {
      let renewed = 0;
      // A few hundred keys per statement keeps each well under both dialects' bound-parameter limits.
      for (let i = 0; i < held.length; i += 500) {
        const keys = sql.join(held.slice(i, i + 500).map((k) => sql`(${k.jobId}, ${k.taskType}, CAST(${k.attempt} AS INTEGER))`));
        renewed += await affected(
          sql`UPDATE attempts SET lease_until = ${until} FROM (VALUES ${keys}) AS k
              WHERE attempts.job_id = k.column1 AND attempts.task_type = k.column2 AND attempts.attempt = k.column3
                AND attempts.owner = ${owner} AND attempts.state = 'EXECUTING' AND attempts.lease_until < ${until}`,
          tx,
        );
      }
      return { value: renewed, jobs: [] };
    });
  }

  async appendLogs(lines: readonly NewLogLine[], batch?: LogBatch): Promise<readonly LogLine[]> {
    if (lines.length === 0) return [];
    return this.write(async (tx) => {
      const jobs = [...new Set(lines.map((l) => l.jobId))].sort();
      // Each job's row, so its lines get sequence numbers in commit order (the per-job cursor).
      await sql`SELECT id FROM jobs WHERE id IN (${list(jobs)}) ORDER BY id ${this.dialect.lock(false)}`.execute(tx);
      if (batch !== undefined && !(await claimLogBatch(tx, batch))) return { value: [], jobs: [] };
      const values = sql.join(lines.map((l) => sql`(${l.jobId}, ${l.taskType}, ${l.attempt}, ${l.stream}, ${l.at.getTime()}, ${l.text})`));
      const inserted = await rows(sql`INSERT INTO logs (job_id, task_type, attempt, stream, at, text) VALUES ${values} RETURNING *`, tx);
      return { value: inserted.map(toLog).sort((a, b) => a.seq - b.seq), jobs };
    });
  }

  async logs(jobId: string, query: LogQuery = {}): Promise<readonly LogLine[]> {
    const limit = Math.max(1, Math.min(query.limit ?? 10_000, 100_000));
    return (await rows(hotQueries.logs(jobId, query.afterSeq ?? 0, limit, query.taskType), await this.read())).map(toLog);
  }

  async acquireLease(name: string, holder: string, ttlMs: number, now: number, takeFrom?: string): Promise<LeaseResult> {
    const expiresAt = now + ttlMs;
    return this.write<LeaseResult>(async (tx) => {
      const row = await one(
        sql`INSERT INTO leases (name, holder, expires_at) VALUES (${name}, ${holder}, ${expiresAt})
            ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
            WHERE leases.holder = excluded.holder OR leases.expires_at <= ${now} OR leases.holder = ${takeFrom ?? null}
            RETURNING holder, expires_at`,
        tx,
      );
      if (row) return { value: { acquired: true, holder, expiresAt }, jobs: [] };
      const current = await one(sql`SELECT holder, expires_at FROM leases WHERE name = ${name}`, tx);
      return { value: { acquired: false, holder: String(current!.holder), expiresAt: Number(current!.expires_at) }, jobs: [] };
    });
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    await this.write(async (tx) => ({
      value: await sql`DELETE FROM leases WHERE name = ${name} AND holder = ${holder}`.execute(tx),
      jobs: [],
    }));
  }

  saveAnt(ant: AntInfo, options: { readonly fresh?: boolean } = {}): Promise<{ readonly drainRequested: boolean }> {
    // Every write goes through a transaction: on SQLite that is what keeps this process's writers in line.
    return this.write(async (tx) => ({ value: await antRows.saveAnt(tx, ant, options.fresh === true), jobs: [] }));
  }

  async ants(now = Date.now()): Promise<readonly AntInfo[]> {
    return antRows.listAnts(await this.read(), now);
  }

  antGone(id: string, queen: string, at: number): Promise<void> {
    return this.write(async (tx) => ({ value: await antRows.antGone(tx, id, queen, at), jobs: [] }));
  }

  requestAntDrain(id: string): Promise<boolean> {
    return this.write(async (tx) => ({ value: await antRows.requestAntDrain(tx, id), jobs: [] }));
  }

  async close(): Promise<void> {
    this.listeners.clear();
    await this.db.destroy();
  }
}

/** The claims of a claim statement's timeline rows (see `claimedEvents`), grouped by claim number, in claim order. */
function claimedByNumber(found: readonly Row[]): Claimed[] {
  const byClaim = new Map<number, { claimed?: Omit<Claimed, 'events'>; events: TimelineEvent[] }>();
  for (const row of found) {
    const n = Number(row.claim);
    const entry = byClaim.get(n) ?? { events: [] };
    byClaim.set(n, entry);
    entry.events.push(toEvent(row));
    if (row.task_type !== null)
      entry.claimed = {
        jobId: String(row.job_id),
        taskType: String(row.task_type),
        attempt: Number(row.attempt),
        runAttempts: Number(row.run_attempts),
      };
  }
  return [...byClaim].sort(([a], [b]) => a - b).map(([, entry]) => ({ ...entry.claimed!, events: entry.events }));
}

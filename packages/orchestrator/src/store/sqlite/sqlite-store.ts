import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import BetterSqlite3, { type Database, type Statement } from 'better-sqlite3';
import type { JobDefinition } from '../../definition/model.js';
import type {
  AntInfo,
  ApplyResult,
  DefinitionVersion,
  JobQuery,
  JobState,
  LogLine,
  Page,
  TaskState,
  TimelineEvent,
} from '../../queen/service.js';
import {
  type AttemptRow,
  type Changes,
  type Claim,
  type Claimed,
  type JobChange,
  type JobRow,
  type JobStop,
  type JobStore,
  type LeaseResult,
  type LogQuery,
  type NewJob,
  type NewLogLine,
  type ReadyTask,
  StoreError,
  type TaskRow,
} from '../store.js';
import { migrate } from './migrations.js';

export const DEFAULT_DB_PATH = './.myrmex/myrmex.db';

export interface SqliteStoreOptions {
  /** A file path or `:memory:`; parent directories are created. */
  readonly path?: string;
  readonly busyTimeoutMs?: number;
}

type Row = Record<string, unknown>;

const ACTIVE = "('READY','EXECUTING')";

const optNum = (v: unknown): number | undefined => (v === null || v === undefined ? undefined : Number(v));
const optStr = (v: unknown): string | undefined => (v === null || v === undefined ? undefined : String(v));
const optDate = (v: unknown): Date | undefined => (v === null || v === undefined ? undefined : new Date(Number(v)));

function toJob(r: Row): JobRow {
  return {
    id: String(r.id),
    jobType: String(r.job_type),
    version: Number(r.version),
    state: r.state as JobState,
    priority: Number(r.priority),
    params: JSON.parse(String(r.params)) as Record<string, unknown>,
    submittedAt: new Date(Number(r.submitted_at)),
    scheduledAt: new Date(Number(r.scheduled_at)),
    startedAt: optDate(r.started_at),
    endedAt: optDate(r.ended_at),
    retry: Number(r.retry),
    reason: optStr(r.reason),
    stop: optStr(r.stop) as JobStop | undefined,
    deadlineAt: optNum(r.deadline_at),
    seq: Number(r.seq),
  };
}

function toTask(r: Row): TaskRow {
  return {
    jobId: String(r.job_id),
    taskType: String(r.task_type),
    state: r.state as TaskState,
    attempt: Number(r.attempt),
    runAttempts: Number(r.run_attempts),
    exitCode: optNum(r.exit_code),
    reason: optStr(r.reason),
    outputs: JSON.parse(String(r.outputs)) as Record<string, string>,
    route: optStr(r.route),
    fatal: Number(r.fatal) === 1,
    notBefore: optNum(r.not_before),
    endedAt: optDate(r.ended_at),
  };
}

function toAttempt(r: Row): AttemptRow {
  return {
    jobId: String(r.job_id),
    taskType: String(r.task_type),
    attempt: Number(r.attempt),
    state: r.state as TaskState,
    exitCode: optNum(r.exit_code),
    startedAt: new Date(Number(r.started_at)),
    endedAt: optDate(r.ended_at),
    reason: optStr(r.reason),
    antId: optStr(r.ant_id),
    pid: optNum(r.pid),
  };
}

function toEvent(r: Row): TimelineEvent {
  return {
    seq: Number(r.seq),
    jobId: String(r.job_id),
    taskType: optStr(r.task_type),
    from: optStr(r.from_state),
    to: String(r.to_state),
    at: new Date(Number(r.at)),
    reason: optStr(r.reason),
  };
}

function toLog(r: Row): LogLine {
  return {
    seq: Number(r.seq),
    jobId: String(r.job_id),
    taskType: String(r.task_type),
    attempt: Number(r.attempt),
    stream: r.stream as LogLine['stream'],
    at: new Date(Number(r.at)),
    text: String(r.text),
  };
}

function toDefinition(r: Row): DefinitionVersion {
  return {
    jobType: String(r.job_type),
    version: Number(r.version),
    definition: JSON.parse(String(r.definition)) as JobDefinition,
    source: String(r.source),
    createdAt: new Date(Number(r.created_at)),
    disabled: Number(r.disabled) === 1,
  };
}

/** Column names for the optional fields of a change, so `apply` builds its UPDATE from what is set. */
const JOB_COLUMNS = {
  state: 'state',
  reason: 'reason',
  stop: 'stop',
  startedAt: 'started_at',
  endedAt: 'ended_at',
  scheduledAt: 'scheduled_at',
  retry: 'retry',
  deadlineAt: 'deadline_at',
} as const;
const TASK_COLUMNS = {
  state: 'state',
  reason: 'reason',
  exitCode: 'exit_code',
  outputs: 'outputs',
  route: 'route',
  fatal: 'fatal',
  notBefore: 'not_before',
  runAttempts: 'run_attempts',
  endedAt: 'ended_at',
} as const;

function sqlValue(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'object') return JSON.stringify(value);
  return value;
}

/** Thrown inside a transaction to roll it back when an expectation fails. */
class ExpectationFailed extends Error {}

/**
 * The embedded store: one SQLite file in WAL mode. better-sqlite3 is synchronous, so each method
 * is one transaction that no other caller in the process can interleave with.
 */
export class SqliteStore implements JobStore {
  readonly description: string;
  readonly schemaVersion: number;
  private readonly db: Database;
  private readonly statements = new Map<string, Statement>();

  private constructor(db: Database, description: string) {
    this.db = db;
    this.description = description;
    this.schemaVersion = migrate(db);
  }

  static open(options: SqliteStoreOptions = {}): SqliteStore {
    const path = options.path ?? DEFAULT_DB_PATH;
    const memory = path === ':memory:';
    const file = memory ? path : resolve(path);
    if (!memory) mkdirSync(dirname(file), { recursive: true });
    const db = new BetterSqlite3(file);
    try {
      db.pragma('journal_mode = WAL');
      // NORMAL in WAL mode survives a process crash (only an OS crash can lose the last commits).
      db.pragma('synchronous = NORMAL');
      db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
      db.pragma('foreign_keys = ON');
      return new SqliteStore(db, `sqlite:${file}`);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  private stmt(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private all(sql: string, ...params: unknown[]): Row[] {
    return this.stmt(sql).all(...params) as Row[];
  }

  private get(sql: string, ...params: unknown[]): Row | undefined {
    return this.stmt(sql).get(...params) as Row | undefined;
  }

  private run(sql: string, ...params: unknown[]): number {
    return this.stmt(sql).run(...params).changes;
  }

  private event(
    jobId: string,
    taskType: string | undefined,
    from: string | undefined,
    to: string,
    at: Date,
    reason?: string,
  ): TimelineEvent {
    const row = this.get(
      'INSERT INTO events (job_id, task_type, from_state, to_state, at, reason) VALUES (?, ?, ?, ?, ?, ?) RETURNING *',
      jobId,
      taskType ?? null,
      from ?? null,
      to,
      at.getTime(),
      reason ?? null,
    );
    return toEvent(row!);
  }

  async saveDefinition(definition: JobDefinition, source: string, at: Date): Promise<ApplyResult> {
    const json = JSON.stringify(definition);
    return this.db
      .transaction((): ApplyResult => {
        const jobType = definition.jobType;
        this.run('INSERT INTO definition_types (job_type) VALUES (?) ON CONFLICT (job_type) DO UPDATE SET disabled = 0', jobType);
        const latest = this.get('SELECT version, definition FROM definitions WHERE job_type = ? ORDER BY version DESC LIMIT 1', jobType);
        if (latest && String(latest.definition) === json) return { jobType, version: Number(latest.version), created: false };
        const version = latest ? Number(latest.version) + 1 : 1;
        this.run(
          'INSERT INTO definitions (job_type, version, definition, source, created_at) VALUES (?, ?, ?, ?, ?)',
          jobType,
          version,
          json,
          source,
          at.getTime(),
        );
        return { jobType, version, created: true };
      })
      .immediate();
  }

  async latestDefinitions(): Promise<readonly DefinitionVersion[]> {
    return this.all(
      `SELECT d.*, t.disabled FROM definitions d JOIN definition_types t USING (job_type)
       WHERE d.version = (SELECT MAX(version) FROM definitions WHERE job_type = d.job_type) ORDER BY d.job_type`,
    ).map(toDefinition);
  }

  async definitionVersions(jobType: string): Promise<readonly DefinitionVersion[]> {
    return this.all(
      'SELECT d.*, t.disabled FROM definitions d JOIN definition_types t USING (job_type) WHERE d.job_type = ? ORDER BY d.version DESC',
      jobType,
    ).map(toDefinition);
  }

  async definition(jobType: string, version?: number): Promise<DefinitionVersion | undefined> {
    const row =
      version === undefined
        ? this.get(
            'SELECT d.*, t.disabled FROM definitions d JOIN definition_types t USING (job_type) WHERE d.job_type = ? ORDER BY d.version DESC LIMIT 1',
            jobType,
          )
        : this.get(
            'SELECT d.*, t.disabled FROM definitions d JOIN definition_types t USING (job_type) WHERE d.job_type = ? AND d.version = ?',
            jobType,
            version,
          );
    return row ? toDefinition(row) : undefined;
  }

  async setDefinitionDisabled(jobType: string, disabled: boolean): Promise<boolean> {
    return this.run('UPDATE definition_types SET disabled = ? WHERE job_type = ?', disabled ? 1 : 0, jobType) > 0;
  }

  async createJob(job: NewJob): Promise<{ readonly job: JobRow; readonly events: readonly TimelineEvent[] }> {
    return this.db
      .transaction(() => {
        const row = this.get(
          `INSERT INTO jobs (id, job_type, version, state, priority, params, submitted_at, scheduled_at)
           VALUES (?, ?, ?, 'PENDING', ?, ?, ?, ?) RETURNING *`,
          job.id,
          job.jobType,
          job.version,
          job.priority,
          JSON.stringify(job.params),
          job.submittedAt.getTime(),
          job.scheduledAt.getTime(),
        );
        job.taskTypes.forEach((taskType, position) => {
          this.run("INSERT INTO tasks (job_id, task_type, position, state) VALUES (?, ?, ?, 'PENDING')", job.id, taskType, position);
        });
        const event = this.event(job.id, undefined, undefined, 'PENDING', job.submittedAt, 'submitted');
        return { job: toJob(row!), events: [event] };
      })
      .immediate();
  }

  async job(id: string): Promise<JobRow | undefined> {
    const row = this.get('SELECT * FROM jobs WHERE id = ?', id);
    return row ? toJob(row) : undefined;
  }

  async listJobs(query: JobQuery): Promise<Page<JobRow>> {
    const limit = Math.max(1, Math.min(query.limit ?? 50, 1000));
    const offset = Math.max(0, query.offset ?? 0);
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.state) {
      where.push('state = ?');
      params.push(query.state);
    }
    if (query.jobType) {
      where.push('job_type = ?');
      params.push(query.jobType);
    }
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const total = Number(this.get(`SELECT COUNT(*) AS n FROM jobs ${clause}`, ...params)!.n);
    const items = this.all(`SELECT * FROM jobs ${clause} ORDER BY seq DESC LIMIT ? OFFSET ?`, ...params, limit, offset).map(toJob);
    return { items, total, limit, offset };
  }

  async tasks(jobId: string): Promise<readonly TaskRow[]> {
    return this.all('SELECT * FROM tasks WHERE job_id = ? ORDER BY position', jobId).map(toTask);
  }

  async attempts(jobId: string): Promise<readonly AttemptRow[]> {
    return this.all(
      'SELECT a.* FROM attempts a JOIN tasks t USING (job_id, task_type) WHERE a.job_id = ? ORDER BY t.position, a.attempt',
      jobId,
    ).map(toAttempt);
  }

  async timeline(jobId: string): Promise<readonly TimelineEvent[]> {
    return this.all('SELECT * FROM events WHERE job_id = ? ORDER BY seq', jobId).map(toEvent);
  }

  async apply(jobId: string, changes: Changes): Promise<readonly TimelineEvent[] | undefined> {
    try {
      return this.db.transaction(() => this.applyInTransaction(jobId, changes)).immediate();
    } catch (error) {
      if (error instanceof ExpectationFailed) return undefined;
      throw error;
    }
  }

  private applyInTransaction(jobId: string, changes: Changes): TimelineEvent[] {
    const events: TimelineEvent[] = [];
    const at = changes.at;
    const job = this.get('SELECT state FROM jobs WHERE id = ?', jobId);
    if (!job) throw new StoreError(`job ${jobId} does not exist`);
    const jobChange = changes.job;
    if (jobChange?.expect && !jobChange.expect.includes(job.state as JobState)) throw new ExpectationFailed();

    // An admission reads best with the job first; every other job transition follows its tasks'.
    const jobFirst = jobChange?.state === 'READY';
    if (jobFirst) events.push(...this.updateJob(jobId, String(job.state), jobChange, at));

    for (const end of changes.attempts ?? []) {
      this.run(
        'UPDATE attempts SET state = ?, exit_code = ?, reason = ?, ended_at = ? WHERE job_id = ? AND task_type = ? AND attempt = ?',
        end.state,
        end.exitCode ?? null,
        end.reason ?? null,
        at.getTime(),
        jobId,
        end.taskType,
        end.attempt,
      );
    }

    for (const change of changes.tasks ?? []) {
      const current = this.get('SELECT state, attempt FROM tasks WHERE job_id = ? AND task_type = ?', jobId, change.taskType);
      if (!current) throw new StoreError(`job ${jobId} has no task ${change.taskType}`);
      if (change.expect?.state !== undefined && current.state !== change.expect.state) throw new ExpectationFailed();
      if (change.expect?.attempt !== undefined && Number(current.attempt) !== change.expect.attempt) throw new ExpectationFailed();
      this.update('tasks', TASK_COLUMNS, change, 'job_id = ? AND task_type = ?', [jobId, change.taskType]);
      if (change.state !== undefined && change.state !== current.state) {
        events.push(this.event(jobId, change.taskType, String(current.state), change.state, at, change.reason ?? undefined));
      }
    }

    if (jobChange && !jobFirst) events.push(...this.updateJob(jobId, String(job.state), jobChange, at));
    return events;
  }

  private updateJob(jobId: string, from: string, change: JobChange, at: Date): TimelineEvent[] {
    this.update('jobs', JOB_COLUMNS, change, 'id = ?', [jobId]);
    if (change.state === undefined || change.state === from) return [];
    return [this.event(jobId, undefined, from, change.state, at, change.reason ?? undefined)];
  }

  private update(table: string, columns: Readonly<Record<string, string>>, change: object, where: string, keys: unknown[]): void {
    const sets: string[] = [];
    const values: unknown[] = [];
    for (const [field, column] of Object.entries(columns)) {
      const value = (change as Record<string, unknown>)[field];
      if (value === undefined) continue;
      sets.push(`${column} = ?`);
      values.push(sqlValue(value));
    }
    if (sets.length > 0) this.run(`UPDATE ${table} SET ${sets.join(', ')} WHERE ${where}`, ...values, ...keys);
  }

  async claim(claim: Claim): Promise<Claimed | undefined> {
    return this.db
      .transaction((): Claimed | undefined => {
        const at = claim.at.getTime();
        const row = this.get(
          `SELECT t.attempt, t.run_attempts, j.state AS job_state, j.started_at FROM tasks t JOIN jobs j ON j.id = t.job_id
           WHERE t.job_id = ? AND t.task_type = ? AND t.state = 'READY' AND j.state IN ${ACTIVE} AND (j.stop IS NULL OR j.stop = 'timeout')`,
          claim.jobId,
          claim.taskType,
        );
        if (!row) return undefined;
        const attempt = Number(row.attempt) + 1;
        const runAttempts = Number(row.run_attempts) + 1;
        this.run(
          "UPDATE tasks SET state = 'EXECUTING', attempt = ?, run_attempts = ?, not_before = NULL WHERE job_id = ? AND task_type = ?",
          attempt,
          runAttempts,
          claim.jobId,
          claim.taskType,
        );
        this.run(
          "INSERT INTO attempts (job_id, task_type, attempt, state, started_at, ant_id) VALUES (?, ?, ?, 'EXECUTING', ?, ?)",
          claim.jobId,
          claim.taskType,
          attempt,
          at,
          claim.antId,
        );
        const reason = `attempt ${attempt} on ant ${claim.antId}`;
        const events = [this.event(claim.jobId, claim.taskType, 'READY', 'EXECUTING', claim.at, reason)];
        if (row.job_state === 'READY') {
          const deadline = claim.jobTimeoutMs === undefined ? null : at + claim.jobTimeoutMs;
          this.run(
            "UPDATE jobs SET state = 'EXECUTING', started_at = COALESCE(started_at, ?), deadline_at = ? WHERE id = ?",
            at,
            deadline,
            claim.jobId,
          );
          events.push(this.event(claim.jobId, undefined, 'READY', 'EXECUTING', claim.at, `task ${claim.taskType} started`));
        }
        return { attempt, runAttempts, events };
      })
      .immediate();
  }

  async setAttemptPid(jobId: string, taskType: string, attempt: number, pid: number): Promise<void> {
    this.run('UPDATE attempts SET pid = ? WHERE job_id = ? AND task_type = ? AND attempt = ?', pid, jobId, taskType, attempt);
  }

  async duePendingJobs(now: number, limit: number, offset = 0): Promise<readonly JobRow[]> {
    return this.all(
      "SELECT * FROM jobs WHERE state = 'PENDING' AND scheduled_at <= ? ORDER BY priority DESC, seq LIMIT ? OFFSET ?",
      now,
      limit,
      offset,
    ).map(toJob);
  }

  async activeJobsByType(): Promise<ReadonlyMap<string, number>> {
    const rows = this.all("SELECT job_type, COUNT(*) AS n FROM jobs WHERE state IN ('READY','EXECUTING','PAUSED') GROUP BY job_type");
    return new Map(rows.map((r) => [String(r.job_type), Number(r.n)]));
  }

  async readyTasks(now: number, limit: number, offset = 0): Promise<readonly ReadyTask[]> {
    return this.all(
      `SELECT t.job_id, t.task_type, j.job_type, j.version, j.priority, j.submitted_at, j.seq
       FROM tasks t JOIN jobs j ON j.id = t.job_id
       WHERE t.state = 'READY' AND (t.not_before IS NULL OR t.not_before <= ?) AND j.state IN ${ACTIVE} AND (j.stop IS NULL OR j.stop = 'timeout')
       ORDER BY j.priority DESC, j.seq, t.position LIMIT ? OFFSET ?`,
      now,
      limit,
      offset,
    ).map((r) => ({
      jobId: String(r.job_id),
      taskType: String(r.task_type),
      jobType: String(r.job_type),
      version: Number(r.version),
      priority: Number(r.priority),
      submittedAt: new Date(Number(r.submitted_at)),
      jobSeq: Number(r.seq),
    }));
  }

  async expiredJobs(now: number): Promise<readonly JobRow[]> {
    return this.all(`SELECT * FROM jobs WHERE state IN ${ACTIVE} AND stop IS NULL AND deadline_at <= ? ORDER BY seq`, now).map(toJob);
  }

  async nextWakeAt(): Promise<number | undefined> {
    const row = this.get(
      `SELECT MIN(t) AS t FROM (
         SELECT MIN(scheduled_at) AS t FROM jobs WHERE state = 'PENDING'
         UNION ALL SELECT MIN(not_before) FROM tasks WHERE state = 'READY' AND not_before IS NOT NULL
         UNION ALL SELECT MIN(deadline_at) FROM jobs WHERE state IN ${ACTIVE} AND stop IS NULL)`,
    );
    return optNum(row?.t);
  }

  async activeJobs(): Promise<readonly JobRow[]> {
    return this.all(`SELECT * FROM jobs WHERE state IN ${ACTIVE} ORDER BY seq`).map(toJob);
  }

  async executingAttempts(): Promise<readonly AttemptRow[]> {
    return this.all("SELECT * FROM attempts WHERE state = 'EXECUTING' ORDER BY job_id, task_type, attempt").map(toAttempt);
  }

  async appendLogs(lines: readonly NewLogLine[]): Promise<readonly LogLine[]> {
    if (lines.length === 0) return [];
    return this.db
      .transaction(() =>
        lines.map((line) =>
          toLog(
            this.get(
              'INSERT INTO logs (job_id, task_type, attempt, stream, at, text) VALUES (?, ?, ?, ?, ?, ?) RETURNING *',
              line.jobId,
              line.taskType,
              line.attempt,
              line.stream,
              line.at.getTime(),
              line.text,
            )!,
          ),
        ),
      )
      .immediate();
  }

  async logs(jobId: string, query: LogQuery = {}): Promise<readonly LogLine[]> {
    const limit = Math.max(1, Math.min(query.limit ?? 10_000, 100_000));
    const after = query.afterSeq ?? 0;
    const rows =
      query.taskType === undefined
        ? this.all('SELECT * FROM logs WHERE job_id = ? AND seq > ? ORDER BY seq LIMIT ?', jobId, after, limit)
        : this.all(
            'SELECT * FROM logs WHERE job_id = ? AND task_type = ? AND seq > ? ORDER BY seq LIMIT ?',
            jobId,
            query.taskType,
            after,
            limit,
          );
    return rows.map(toLog);
  }

  async acquireLease(
    name: string,
    holder: string,
    ttlMs: number,
    now: number,
    mayTake: (otherHolder: string) => boolean = () => false,
  ): Promise<LeaseResult> {
    return this.db
      .transaction((): LeaseResult => {
        const current = this.get('SELECT holder, expires_at FROM leases WHERE name = ?', name);
        if (current && current.holder !== holder && Number(current.expires_at) > now && !mayTake(String(current.holder))) {
          return { acquired: false, holder: String(current.holder), expiresAt: Number(current.expires_at) };
        }
        const expiresAt = now + ttlMs;
        this.run(
          'INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at',
          name,
          holder,
          expiresAt,
        );
        return { acquired: true, holder, expiresAt };
      })
      .immediate();
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    this.run('DELETE FROM leases WHERE name = ? AND holder = ?', name, holder);
  }

  async saveAnt(ant: AntInfo): Promise<void> {
    this.run(
      `INSERT INTO ants (id, methods, tags, capacity, running, last_seen_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET methods = excluded.methods, tags = excluded.tags, capacity = excluded.capacity,
       running = excluded.running, last_seen_at = excluded.last_seen_at`,
      ant.id,
      JSON.stringify(ant.methods),
      JSON.stringify(ant.tags),
      ant.capacity,
      ant.running,
      ant.lastSeenAt.getTime(),
    );
  }

  async ants(): Promise<readonly AntInfo[]> {
    return this.all('SELECT * FROM ants ORDER BY id').map((r) => ({
      id: String(r.id),
      methods: JSON.parse(String(r.methods)) as string[],
      tags: JSON.parse(String(r.tags)) as string[],
      capacity: Number(r.capacity),
      running: Number(r.running),
      lastSeenAt: new Date(Number(r.last_seen_at)),
    }));
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

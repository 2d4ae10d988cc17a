import { sql } from 'kysely';
import type { SecurityStore } from '../security.js';
import type {
  DeadLetter,
  JobOrigin,
  JobOriginKind,
  NewNotification,
  NotificationChannel,
  NotificationKey,
  NotificationRow,
  NotificationState,
  WorkflowEventStore,
} from '../workflow-events.js';
import { type Row, toJob } from './rows.js';
import type { Executor } from './sql-store.js';

/**
 * Migration 0014-workflow-events. A notification's key is its job, channel and recipient, so every
 * queen that sees a job end may file the rows and one set exists; a row is sent by the queen whose
 * claim (`claimed_by` until `claim_until`) holds. A job's origin is one row per made job; the index
 * on `origin` finds what a dead letter was redriven as.
 */
export const WORKFLOW_EVENTS_SCHEMA = `
  CREATE TABLE notifications (
    job_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    state TEXT NOT NULL,
    payload TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    not_before $BIG NOT NULL,
    claimed_by TEXT,
    claim_until $BIG,
    last_error TEXT,
    created_at $BIG NOT NULL,
    sent_at $BIG,
    PRIMARY KEY (job_id, channel, recipient)
  );
  CREATE INDEX notifications_due ON notifications (not_before) WHERE state = 'PENDING';
  CREATE TABLE job_origins (
    job_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    origin TEXT NOT NULL,
    trigger_name TEXT,
    at $BIG NOT NULL
  );
  CREATE INDEX job_origins_origin ON job_origins (origin, kind)
`;

const optStr = (v: unknown): string | undefined => (v === null || v === undefined ? undefined : String(v));

const toNotification = (r: Row): NotificationRow => ({
  jobId: String(r.job_id),
  channel: String(r.channel) as NotificationChannel,
  recipient: String(r.recipient),
  state: String(r.state) as NotificationState,
  payload: JSON.parse(String(r.payload)) as Record<string, unknown>,
  attempts: Number(r.attempts),
  ...(r.last_error === null || r.last_error === undefined ? {} : { lastError: String(r.last_error) }),
  createdAt: new Date(Number(r.created_at)),
  ...(r.sent_at === null || r.sent_at === undefined ? {} : { sentAt: new Date(Number(r.sent_at)) }),
});

const toOrigin = (r: Row): JobOrigin => ({
  jobId: String(r.job_id),
  kind: String(r.kind) as JobOriginKind,
  origin: String(r.origin),
  ...(optStr(r.trigger_name) === undefined ? {} : { trigger: String(r.trigger_name) }),
  at: new Date(Number(r.at)),
});

/** Claimable: waiting, due, and not held by a live claim. Checked again by the UPDATE itself, so two claimers never both win. */
const claimable = (now: number) => sql`state = 'PENDING' AND not_before <= ${now} AND (claim_until IS NULL OR claim_until <= ${now})`;

/** The same SQL on SQLite and PostgreSQL; every method is one statement, atomic on its own. */
export class SqlWorkflowEvents implements WorkflowEventStore {
  constructor(
    private readonly db: Executor,
    private readonly ready: Promise<unknown>,
    private readonly security: SecurityStore,
  ) {}

  private async read(): Promise<Executor> {
    await this.ready;
    return this.db;
  }

  async enqueueNotifications(rows: readonly NewNotification[], at: Date): Promise<number> {
    if (rows.length === 0) return 0;
    const db = await this.read();
    const values = sql.join(
      rows.map(
        (r) => sql`(${r.jobId}, ${r.channel}, ${r.recipient}, 'PENDING', ${JSON.stringify(r.payload)}, ${at.getTime()}, ${at.getTime()})`,
      ),
    );
    const result = await sql`INSERT INTO notifications (job_id, channel, recipient, state, payload, not_before, created_at)
      VALUES ${values} ON CONFLICT DO NOTHING`.execute(db);
    return Number(result.numAffectedRows ?? 0);
  }

  async claimNotifications(holder: string, now: number, leaseMs: number, limit: number): Promise<readonly NotificationRow[]> {
    const db = await this.read();
    const { rows } = await sql<Row>`UPDATE notifications SET claimed_by = ${holder}, claim_until = ${now + leaseMs}, attempts = attempts + 1
      WHERE ${claimable(now)} AND (job_id, channel, recipient) IN (
        SELECT job_id, channel, recipient FROM notifications WHERE ${claimable(now)} ORDER BY not_before LIMIT ${limit})
      RETURNING *`.execute(db);
    return rows.map(toNotification);
  }

  async settleNotification(
    key: NotificationKey,
    holder: string,
    outcome: { readonly sent: true; readonly at: Date } | { readonly sent: false; readonly error: string; readonly retryAt?: number },
  ): Promise<boolean> {
    const db = await this.read();
    const set = outcome.sent
      ? sql`state = 'SENT', sent_at = ${outcome.at.getTime()}, last_error = NULL`
      : outcome.retryAt === undefined
        ? sql`state = 'FAILED', last_error = ${outcome.error}`
        : sql`not_before = ${outcome.retryAt}, last_error = ${outcome.error}`;
    const result = await sql`UPDATE notifications SET ${set}, claimed_by = NULL, claim_until = NULL
      WHERE job_id = ${key.jobId} AND channel = ${key.channel} AND recipient = ${key.recipient}
        AND state = 'PENDING' AND claimed_by = ${holder}`.execute(db);
    return Number(result.numAffectedRows ?? 0) > 0;
  }

  async notifications(jobId: string): Promise<readonly NotificationRow[]> {
    const { rows } = await sql<Row>`SELECT * FROM notifications WHERE job_id = ${jobId} ORDER BY created_at, channel, recipient`.execute(
      await this.read(),
    );
    return rows.map(toNotification);
  }

  async nextNotificationAt(): Promise<number | undefined> {
    const { rows } =
      await sql<Row>`SELECT MIN(CASE WHEN claim_until IS NOT NULL AND claim_until > not_before THEN claim_until ELSE not_before END) AS at
      FROM notifications WHERE state = 'PENDING'`.execute(await this.read());
    const at = rows[0]?.at;
    return at === null || at === undefined ? undefined : Number(at);
  }

  async link(origin: JobOrigin): Promise<void> {
    await sql`INSERT INTO job_origins (job_id, kind, origin, trigger_name, at)
      VALUES (${origin.jobId}, ${origin.kind}, ${origin.origin}, ${origin.trigger ?? null}, ${origin.at.getTime()})
      ON CONFLICT DO NOTHING`.execute(await this.read());
  }

  async origin(jobId: string): Promise<JobOrigin | undefined> {
    const { rows } = await sql<Row>`SELECT * FROM job_origins WHERE job_id = ${jobId}`.execute(await this.read());
    return rows[0] === undefined ? undefined : toOrigin(rows[0]);
  }

  async deadLetters(query: { readonly org?: string; readonly limit: number; readonly beforeSeq?: number }): Promise<readonly DeadLetter[]> {
    const org = query.org === undefined ? sql`` : sql` AND j.org = ${query.org}`;
    const before = query.beforeSeq === undefined ? sql`` : sql` AND j.seq < ${query.beforeSeq}`;
    const { rows } = await sql<Row>`SELECT j.*, o.job_id AS redriven_as FROM jobs j
      LEFT JOIN job_origins o ON o.origin = j.id AND o.kind = 'redrive'
      WHERE j.state = 'FAILED'${org}${before} ORDER BY j.seq DESC LIMIT ${query.limit}`.execute(await this.read());
    return rows.map((r) => ({ job: toJob(r), ...(optStr(r.redriven_as) === undefined ? {} : { redrivenAs: String(r.redriven_as) }) }));
  }

  definitionOrg(jobType: string): Promise<string | undefined> {
    return this.security.definitionOrg(jobType);
  }

  countEvent(key: string, windowStart: number, windowEnd: number): Promise<number> {
    return this.security.countRequest(key, windowStart, windowEnd);
  }
}

import { type RawBuilder, sql } from 'kysely';
import {
  type AdmissionVerdict,
  judge,
  judgeAdmissions,
  periodEnd,
  periodStart,
  type QuotaBreach,
  type QuotaLimit,
  type QuotaPeriod,
  type QuotaResource,
  type QuotaSubject,
  type QuotaUsage,
  usageSince,
} from '../../security/quotas.js';
import type { QuotaStore } from '../quotas.js';
import { ADMITTED, LIVE, list } from './hot-queries.js';
import type { Executor, SqlDialect } from './sql-store.js';

type Row = Record<string, unknown>;

/**
 * 0018-quotas (issue 17): limits per organisation (`user_id` '') and per user inside it; who submitted
 * each job (jobs from before have none and count for their organisation only); artifacts by creation
 * time, for storage used in a period.
 */
export const QUOTA_SCHEMA = `
  CREATE TABLE quotas (
    org TEXT NOT NULL REFERENCES orgs(id),
    user_id TEXT NOT NULL DEFAULT '',
    resource TEXT NOT NULL,
    hard DOUBLE PRECISION,
    soft DOUBLE PRECISION,
    period TEXT,
    updated_at $BIG NOT NULL,
    PRIMARY KEY (org, user_id, resource)
  );
  ALTER TABLE jobs ADD COLUMN submitted_by TEXT;
  CREATE INDEX artifacts_created ON artifacts (created_at)
`;

/**
 * 0020-cpu-time (issue 17): the CPU time an attempt's processes used, as its ant measured it (SHELL);
 * NULL where it could not, and then CPU-hours charge the attempt's wall-clock time.
 */
export const CPU_TIME_SCHEMA = `ALTER TABLE attempts ADD COLUMN cpu_ms $BIG`;

/** The resources an admission is judged on (artifact storage is judged on upload). */
export const AT_ADMISSION = list(['running_jobs', 'cpu_hours']);

async function rows(query: RawBuilder<unknown>, db: Executor): Promise<Row[]> {
  return (await query.execute(db)).rows as Row[];
}

const num = (value: unknown): number | undefined => (value === null || value === undefined ? undefined : Number(value));

function toLimit(row: Row): QuotaLimit {
  const hard = num(row.hard);
  const soft = num(row.soft);
  return {
    org: String(row.org),
    ...(row.user_id ? { user: String(row.user_id) } : {}),
    resource: String(row.resource) as QuotaResource,
    ...(hard !== undefined && { hard }),
    ...(soft !== undefined && { soft }),
    ...(row.period ? { period: String(row.period) as QuotaPeriod } : {}),
  };
}

const byUser = (limit: QuotaLimit) => (limit.user === undefined ? sql`` : sql`AND j.submitted_by = ${limit.user}`);

/** What each limit has used in its current period, counted now on `db` (inside a transaction, what it sees). */
export async function measure(db: Executor, limits: readonly QuotaLimit[], now: number): Promise<QuotaUsage[]> {
  const orgs = [...new Set(limits.filter((l) => l.resource === 'running_jobs').map((l) => l.org))];
  const running = new Map<string, number>();
  if (orgs.length > 0) {
    // One grouped count (index jobs_org_unended: the live jobs of each organisation) gives every organisation's and user's running jobs.
    for (const row of await rows(
      sql`SELECT org, submitted_by, COUNT(*) AS n FROM jobs WHERE org IN (${list(orgs)}) AND state IN ${LIVE} AND state IN ${ADMITTED}
          GROUP BY org, submitted_by`,
      db,
    )) {
      const n = Number(row.n);
      running.set(String(row.org), (running.get(String(row.org)) ?? 0) + n);
      if (row.submitted_by !== null && row.submitted_by !== undefined) running.set(`${row.org}\u0000${row.submitted_by}`, n);
    }
  }
  const measured: QuotaUsage[] = [];
  for (const limit of limits) {
    const since = usageSince(limit, now);
    let used: number;
    if (limit.resource === 'running_jobs') {
      used = running.get(limit.user === undefined ? limit.org : `${limit.org}\u0000${limit.user}`) ?? 0;
    } else if (limit.resource === 'cpu_hours') {
      // Charged when an attempt ends, in the period it ended in (index attempts_ended): the CPU time its
      // ant measured, else its whole run time.
      const [row] = await rows(
        sql`SELECT COALESCE(SUM(COALESCE(a.cpu_ms, a.ended_at - a.started_at)), 0) AS ms FROM attempts a JOIN jobs j ON j.id = a.job_id
            WHERE a.ended_at IS NOT NULL AND a.ended_at >= ${since} AND j.org = ${limit.org} ${byUser(limit)}`,
        db,
      );
      used = Number(row?.ms ?? 0) / 3_600_000;
    } else {
      const [row] = await rows(
        sql`SELECT COALESCE(SUM(a.size), 0) AS n FROM artifacts a JOIN jobs j ON j.id = a.job_id
            WHERE a.created_at >= ${since} AND (a.expires_at IS NULL OR a.expires_at > ${now}) AND j.org = ${limit.org} ${byUser(limit)}`,
        db,
      );
      used = Number(row?.n ?? 0);
    }
    const period = limit.resource !== 'running_jobs' ? limit.period : undefined;
    measured.push({ ...limit, used, ...(period && { periodStart: periodStart(period, now), periodEnd: periodEnd(period, now) }) });
  }
  return measured;
}

/**
 * Judges admitting `jobIds` in order against their organisations' and users' running-jobs and
 * CPU-hours limits, counted on `db`. With `lock` (inside the admitting transaction) the organisations'
 * rows are locked first, in id order, so queens admitting for one organisation at once count one after
 * the other and never pass a hard limit together. Organisations without such limits cost one read.
 */
async function judgeOn(
  db: Executor,
  jobIds: readonly string[],
  now: number,
  lock?: SqlDialect,
): Promise<Map<string, AdmissionVerdict & { subject: QuotaSubject }>> {
  if (jobIds.length === 0) return new Map();
  const subjects: QuotaSubject[] = (
    await rows(
      sql`SELECT id, org, submitted_by FROM jobs WHERE id IN (${list(jobIds)})
          AND org IN (SELECT org FROM quotas WHERE resource IN (${AT_ADMISSION}))`,
      db,
    )
  ).map((row) => ({ jobId: String(row.id), org: String(row.org), ...(row.submitted_by ? { user: String(row.submitted_by) } : {}) }));
  if (subjects.length === 0) return new Map();
  const order = new Map(jobIds.map((id, i) => [id, i]));
  subjects.sort((a, b) => order.get(a.jobId)! - order.get(b.jobId)!);
  const orgs = [...new Set(subjects.map((s) => s.org))].sort();
  if (lock) await sql`SELECT id FROM orgs WHERE id IN (${list(orgs)}) ORDER BY id ${lock.lock(false)}`.execute(db);
  const limits = (await rows(sql`SELECT * FROM quotas WHERE org IN (${list(orgs)}) AND resource IN (${AT_ADMISSION})`, db)).map(toLimit);
  const verdicts = judgeAdmissions(subjects, await measure(db, limits, now), now);
  const bySubject = new Map(subjects.map((s) => [s.jobId, s]));
  return new Map([...verdicts].map(([id, verdict]) => [id, { ...verdict, subject: bySubject.get(id)! }]));
}

/**
 * Inside the transaction that records a job's artifacts: its organisation's and its submitter's
 * artifact storage limits, their rows locked in (org, user) order, the organisation's first, so
 * recorders for one organisation queue on that row (on SQLite the transaction alone serialises).
 */
export async function lockArtifactQuotas(tx: Executor, dialect: SqlDialect, jobId: string): Promise<QuotaLimit[]> {
  return (
    await rows(
      sql`SELECT q.* FROM quotas q JOIN jobs j ON j.org = q.org AND (q.user_id = '' OR q.user_id = j.submitted_by)
          WHERE j.id = ${jobId} AND q.resource = 'artifact_bytes' ORDER BY q.user_id ${dialect.lock(false, 'q')}`,
      tx,
    )
  ).map(toLimit);
}

/** Inside the admitting transaction: the jobs a hard limit refuses (see `judgeOn`). */
export async function refusedByQuota(tx: Executor, dialect: SqlDialect, jobIds: readonly string[], now: number): Promise<Set<string>> {
  const verdicts = await judgeOn(tx, jobIds, now, dialect);
  return new Set([...verdicts].filter(([, v]) => v.hold !== undefined).map(([id]) => id));
}

/** How long a store trusts "no admission quota is set anywhere" before asking again. */
const NONE_SET_TTL_MS = 1_000;

/**
 * Whether the admitting transaction must judge quotas at all: "none is set" is remembered for a second,
 * so a queen without quotas pays one read a second, not one per admitted page. A quota just set binds
 * every queen's admissions within that second.
 */
export class QuotaPresence {
  private noneSetUntil = 0;

  constructor(private readonly quotas: Pick<QuotaStore, 'anyAdmissionLimit'>) {}

  async anySet(now: number): Promise<boolean> {
    if (now < this.noneSetUntil) return false;
    if (await this.quotas.anyAdmissionLimit()) return true;
    this.noneSetUntil = now + NONE_SET_TTL_MS;
    return false;
  }
}

export class SqlQuotaStore implements QuotaStore {
  constructor(
    private readonly db: Executor,
    private readonly ready: Promise<unknown>,
  ) {}

  private async read(): Promise<Executor> {
    await this.ready;
    return this.db;
  }

  async setLimit(limit: QuotaLimit, at: Date): Promise<void> {
    const db = await this.read();
    const user = limit.user ?? '';
    if (limit.hard === undefined && limit.soft === undefined) {
      await sql`DELETE FROM quotas WHERE org = ${limit.org} AND user_id = ${user} AND resource = ${limit.resource}`.execute(db);
      return;
    }
    const values = { hard: limit.hard ?? null, soft: limit.soft ?? null, period: limit.period ?? null };
    await sql`INSERT INTO quotas (org, user_id, resource, hard, soft, period, updated_at)
              VALUES (${limit.org}, ${user}, ${limit.resource}, ${values.hard}, ${values.soft}, ${values.period}, ${at.getTime()})
              ON CONFLICT (org, user_id, resource) DO UPDATE SET hard = ${values.hard}, soft = ${values.soft}, period = ${values.period},
                updated_at = ${at.getTime()}`.execute(db);
  }

  async limits(org: string): Promise<readonly QuotaLimit[]> {
    return (await rows(sql`SELECT * FROM quotas WHERE org = ${org} ORDER BY user_id, resource`, await this.read())).map(toLimit);
  }

  async usage(org: string, now: number): Promise<readonly QuotaUsage[]> {
    return measure(await this.read(), await this.limits(org), now);
  }

  async admissions(jobIds: readonly string[], now: number) {
    return judgeOn(await this.read(), jobIds, now);
  }

  async anyAdmissionLimit(): Promise<boolean> {
    return (await rows(sql`SELECT 1 AS one FROM quotas WHERE resource IN (${AT_ADMISSION}) LIMIT 1`, await this.read())).length > 0;
  }

  async artifactBreaches(jobId: string, bytes: number, now: number): Promise<readonly QuotaBreach[]> {
    const db = await this.read();
    const limits = (
      await rows(
        sql`SELECT q.* FROM quotas q JOIN jobs j ON j.org = q.org AND (q.user_id = '' OR q.user_id = j.submitted_by)
            WHERE j.id = ${jobId} AND q.resource = 'artifact_bytes'`,
        db,
      )
    ).map(toLimit);
    return (await measure(db, limits, now)).flatMap((usage) => {
      const breach = judge(usage, usage.used, bytes, now);
      return breach ? [breach] : [];
    });
  }
}

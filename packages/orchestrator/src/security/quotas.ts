/**
 * Quotas per organisation and per user inside it (issue 17): pure rules, no I/O. The store reads the
 * limits and the usage; these functions say what a limit means for an admission or an upload.
 */

/**
 * `running_jobs`: jobs admitted and not ended (READY, EXECUTING, PAUSED), checked at admission.
 * `cpu_hours`: attempts' run time (wall clock, one CPU per attempt) charged when each attempt ends,
 * summed over the period; at its hard limit no new job is admitted until the period resets.
 * `artifact_bytes`: bytes of unexpired artifacts (of the period, when it has one); an upload that
 * would pass the hard limit is refused.
 */
export const QUOTA_RESOURCES = ['running_jobs', 'cpu_hours', 'artifact_bytes'] as const;
export type QuotaResource = (typeof QUOTA_RESOURCES)[number];

/** Calendar periods in UTC; a cumulative quota without one never resets. */
export const QUOTA_PERIODS = ['daily', 'monthly'] as const;
export type QuotaPeriod = (typeof QUOTA_PERIODS)[number];

export interface QuotaLimit {
  readonly org: string;
  /** A user's own limit inside the organisation; absent for the organisation's. */
  readonly user?: string;
  readonly resource: QuotaResource;
  /** Above it nothing more is admitted (or stored). */
  readonly hard?: number;
  /** Above it work is still admitted, with a warning in the timeline, the audit log and the metrics. */
  readonly soft?: number;
  readonly period?: QuotaPeriod;
}

/** A limit with what it has used so far in its current period. */
export interface QuotaUsage extends QuotaLimit {
  readonly used: number;
  /** The current period, epoch ms (cumulative resources with a period only). */
  readonly periodStart?: number;
  readonly periodEnd?: number;
}

/** A limit reached: `hard` holds the work back, `soft` lets it through with a warning. */
export interface QuotaBreach {
  readonly level: 'hard' | 'soft';
  readonly limit: QuotaLimit;
  /** "org acme at quota 10/10 running jobs" */
  readonly message: string;
  /** When a hold on a cumulative resource lifts by itself (its period's end), epoch ms. */
  readonly until?: number;
}

export class QuotaInputError extends Error {
  override readonly name = 'QuotaInputError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** The start of the period holding `now`, epoch ms (UTC midnight, or the first of the month). */
export function periodStart(period: QuotaPeriod, now: number): number {
  const d = new Date(now);
  return period === 'daily'
    ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate())
    : Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

export function periodEnd(period: QuotaPeriod, now: number): number {
  const d = new Date(periodStart(period, now));
  return period === 'daily'
    ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1)
    : Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** Where a limit's usage is counted from: its period's start, or the beginning of time (running jobs have no period). */
export function usageSince(limit: Pick<QuotaLimit, 'resource' | 'period'>, now: number): number {
  return limit.resource !== 'running_jobs' && limit.period !== undefined ? periodStart(limit.period, now) : 0;
}

const UNIT: Record<QuotaResource, string> = { running_jobs: 'running jobs', cpu_hours: 'CPU-hours', artifact_bytes: 'artifact bytes' };

function amount(resource: QuotaResource, value: number): string {
  return resource === 'cpu_hours' ? String(Number(value.toPrecision(3))) : String(Math.round(value));
}

function subject(limit: QuotaLimit): string {
  return limit.user === undefined ? `org ${limit.org}` : `user ${limit.user} of org ${limit.org}`;
}

function per(limit: QuotaLimit): string {
  return limit.resource !== 'running_jobs' && limit.period !== undefined ? (limit.period === 'daily' ? ' per day' : ' per month') : '';
}

/**
 * How `limit` judges taking `adding` more of its resource when `used` is already taken: a hard breach
 * when the total would pass the hard limit (for CPU-hours, once it is reached: a job's run time is
 * not known before it runs), a soft one past the soft limit, else nothing.
 */
export function judge(limit: QuotaLimit, used: number, adding: number, now: number): QuotaBreach | undefined {
  const after = used + adding;
  const over = (bound: number) => (limit.resource === 'cpu_hours' ? used >= bound : after > bound);
  const level = limit.hard !== undefined && over(limit.hard) ? 'hard' : limit.soft !== undefined && over(limit.soft) ? 'soft' : undefined;
  if (level === undefined) return undefined;
  const bound = level === 'hard' ? limit.hard! : limit.soft!;
  // A held job shows the count it waits on (10/10); work let through, or an upload refused, the total it makes (11/10).
  const shown = limit.resource === 'cpu_hours' || (level === 'hard' && limit.resource === 'running_jobs') ? used : after;
  const message = `${subject(limit)} at ${level === 'soft' ? 'soft ' : ''}quota ${amount(limit.resource, shown)}/${amount(limit.resource, bound)} ${UNIT[limit.resource]}${per(limit)}`;
  const until = limit.resource !== 'running_jobs' && limit.period !== undefined ? periodEnd(limit.period, now) : undefined;
  return { level, limit, message, ...(until !== undefined && { until }) };
}

/** A job about to be admitted, by whom it counts against. */
export interface QuotaSubject {
  readonly jobId: string;
  readonly org: string;
  readonly user?: string;
}

/** What admission should do with one job: hold it (the first hard breach), or admit it with the soft ones. */
export interface AdmissionVerdict {
  readonly hold?: QuotaBreach;
  readonly warnings: readonly QuotaBreach[];
}

const usageKey = (limit: Pick<QuotaLimit, 'org' | 'user' | 'resource'>) => `${limit.resource}\u0000${limit.org}\u0000${limit.user ?? ''}`;

/**
 * Admissions in order against the limits that apply to them (`used` per limit, as the store counted
 * it): each admitted job takes a running place from its organisation's and its user's count, so a
 * batch never passes a limit together. Jobs under no limit are left out of the result.
 */
export function judgeAdmissions(
  subjects: readonly QuotaSubject[],
  limits: readonly QuotaUsage[],
  now: number,
): Map<string, AdmissionVerdict> {
  const used = new Map(limits.map((limit) => [usageKey(limit), limit.used]));
  const verdicts = new Map<string, AdmissionVerdict>();
  for (const job of subjects) {
    const applying = limits.filter(
      (limit) => limit.org === job.org && (limit.user === undefined || limit.user === job.user) && limit.resource !== 'artifact_bytes',
    );
    if (applying.length === 0) continue;
    const breaches = applying.flatMap((limit) => {
      const adding = limit.resource === 'running_jobs' ? 1 : 0;
      const breach = judge(limit, used.get(usageKey(limit)) ?? 0, adding, now);
      return breach ? [breach] : [];
    });
    const hold = breaches.find((b) => b.level === 'hard');
    if (hold === undefined) {
      for (const limit of applying) if (limit.resource === 'running_jobs') used.set(usageKey(limit), (used.get(usageKey(limit)) ?? 0) + 1);
    }
    verdicts.set(job.jobId, { ...(hold && { hold }), warnings: hold ? [] : breaches });
  }
  return verdicts;
}

/** A limit from an API body or the CLI, checked field by field (errors name the field). */
export function parseQuotaLimit(org: string, body: unknown): QuotaLimit {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new QuotaInputError('body', 'must be an object');
  const input = body as Record<string, unknown>;
  const known = new Set(['resource', 'user', 'hard', 'soft', 'period']);
  for (const key of Object.keys(input))
    if (!known.has(key)) throw new QuotaInputError(key, `unknown field; expected ${[...known].join(', ')}`);
  const resource = input.resource;
  if (typeof resource !== 'string' || !(QUOTA_RESOURCES as readonly string[]).includes(resource)) {
    throw new QuotaInputError('resource', `must be one of ${QUOTA_RESOURCES.join(', ')}`);
  }
  const bound = (field: 'hard' | 'soft'): number | undefined => {
    const value = input[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
      throw new QuotaInputError(field, 'must be a number of 0 or more');
    if (resource !== 'cpu_hours' && !Number.isSafeInteger(value))
      throw new QuotaInputError(field, `must be a whole number for ${resource}`);
    return value;
  };
  const hard = bound('hard');
  const soft = bound('soft');
  if (hard !== undefined && soft !== undefined && soft > hard) throw new QuotaInputError('soft', `must not be above hard (${hard})`);
  const period = input.period;
  if (period !== undefined && period !== null) {
    if (typeof period !== 'string' || !(QUOTA_PERIODS as readonly string[]).includes(period)) {
      throw new QuotaInputError('period', `must be one of ${QUOTA_PERIODS.join(', ')}`);
    }
    if (resource === 'running_jobs') throw new QuotaInputError('period', 'running_jobs is a count of jobs now, it has no period');
  }
  const user = input.user;
  if (user !== undefined && user !== null && (typeof user !== 'string' || user === '' || user.length > 200)) {
    throw new QuotaInputError('user', 'must be a user id');
  }
  return {
    org,
    resource: resource as QuotaResource,
    ...(typeof user === 'string' && { user }),
    ...(hard !== undefined && { hard }),
    ...(soft !== undefined && { soft }),
    // CPU-hours are "per day" unless told otherwise: a cumulative limit that never resets is rarely meant.
    ...(typeof period === 'string'
      ? { period: period as QuotaPeriod }
      : resource === 'cpu_hours' && period === undefined
        ? { period: 'daily' as const }
        : {}),
  };
}

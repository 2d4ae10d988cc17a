import type { AdmissionVerdict, QuotaBreach, QuotaSubject } from '../security/quotas.js';
import type { QuotaStore } from '../store/quotas.js';

/** An admission let through past a soft limit: a timeline reason, an audit row and a metric. */
export interface QuotaWarning {
  readonly jobId: string;
  readonly org: string;
  readonly user?: string;
  readonly breaches: readonly QuotaBreach[];
}

/** How long the scheduler trusts "no admission limit is set anywhere" before asking again. */
const NONE_SET_TTL_MS = 1_000;

/**
 * The scheduler's view of quotas before it admits a page: which jobs a hard limit holds (they are not
 * offered to the store, which checks again inside the admitting transaction) and which pass a soft one.
 * While no organisation has an admission limit it reads nothing but that fact, once a second.
 */
export class QuotaGate {
  private noneSetUntil = 0;

  constructor(private readonly quotas: QuotaStore) {}

  async judge(jobIds: readonly string[], now: number): Promise<ReadonlyMap<string, AdmissionVerdict & { readonly subject: QuotaSubject }>> {
    if (jobIds.length === 0 || now < this.noneSetUntil) return new Map();
    if (!(await this.quotas.anyAdmissionLimit())) {
      this.noneSetUntil = now + NONE_SET_TTL_MS;
      return new Map();
    }
    return this.quotas.admissions(jobIds, now);
  }
}

/** The admission's timeline reason when it passes soft limits. */
export function softQuotaReason(breaches: readonly QuotaBreach[]): string {
  return `admitted over soft quota: ${breaches.map((b) => b.message).join('; ')}`;
}

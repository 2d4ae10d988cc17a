import type { AdmissionVerdict, QuotaBreach, QuotaLimit, QuotaSubject, QuotaUsage } from '../security/quotas.js';

/**
 * Quotas per organisation and per user (issue 17) on the queens' database: every queen reads the same
 * limits and counts the same usage. The authoritative admission check runs inside the admitting
 * transaction (`SqlStore.applyMany`); these reads explain and warn.
 */
export interface QuotaStore {
  /** Sets the limit; one with neither a hard nor a soft bound is removed. */
  setLimit(limit: QuotaLimit, at: Date): Promise<void>;
  limits(org: string): Promise<readonly QuotaLimit[]>;
  /** Every limit of the organisation (and of its users) with what it has used in its current period. */
  usage(org: string, now: number): Promise<readonly QuotaUsage[]>;
  /** What admitting these jobs now, in this order, would meet; jobs under no limit are left out. */
  admissions(jobIds: readonly string[], now: number): Promise<ReadonlyMap<string, AdmissionVerdict & { readonly subject: QuotaSubject }>>;
  /** Whether any organisation or user has a running-jobs or CPU-hours limit (else admission need not look). */
  anyAdmissionLimit(): Promise<boolean>;
  /** The artifact storage limits that storing `bytes` more for the job would pass. */
  artifactBreaches(jobId: string, bytes: number, now: number): Promise<readonly QuotaBreach[]>;
}

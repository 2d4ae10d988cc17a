import type { AuditRecord, ChainedRecord, TokenScope } from '../security/index.js';
import type { QuotaStore } from './quotas.js';

export { DEFAULT_ORG } from '../domain/organisations.js';

/** Per organisation: viewer reads, operator also submits, cancels and approves, admin also manages tokens and definitions. */
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** The most a role's tokens may do: a token's scopes are cut to its user's role at every check. */
export const ROLE_SCOPES: Readonly<Record<Role, readonly TokenScope[]>> = {
  viewer: ['read'],
  operator: ['read', 'submit', 'cancel', 'approve'],
  admin: ['read', 'submit', 'cancel', 'approve', 'admin', 'ant'],
};

export interface Org {
  readonly id: string;
  readonly name: string;
  readonly createdAt: Date;
  readonly quota: OrgQuota;
}

/** Hard limits checked in the submission's own transaction; absent means unlimited. */
export interface OrgQuota {
  /** Jobs not yet ended (PENDING, READY, EXECUTING, PAUSED). */
  readonly maxJobs?: number;
  /** Jobs waiting to be admitted (PENDING). */
  readonly maxQueued?: number;
  /** Jobs submitted in the last 60 s (by their submission time), this submission's included. */
  readonly maxSubmitsPerMinute?: number;
}

export interface User {
  readonly id: string;
  readonly name: string;
  readonly platformAdmin: boolean;
  readonly createdAt: Date;
}

export interface Team {
  readonly id: string;
  readonly orgId: string;
  readonly name: string;
}

export interface TokenRow {
  readonly id: string;
  /** HMAC of the token's secret; never sent to clients. */
  readonly hash: string;
  readonly orgId: string;
  readonly userId?: string;
  readonly name: string;
  readonly scopes: readonly TokenScope[];
  readonly createdAt: Date;
  readonly expiresAt?: Date;
  readonly lastUsedAt?: Date;
  readonly revokedAt?: Date;
  /**
   * An `ant` token that serves every organisation (a platform administrator's to create). Without it
   * an ant token serves only its own organisation's jobs, which the claim checks in the database.
   */
  readonly antShared?: boolean;
}

export type NewToken = Omit<TokenRow, 'lastUsedAt' | 'revokedAt'>;

export interface SealedSecret {
  readonly orgId: string;
  readonly name: string;
  readonly sealed: string;
  readonly updatedAt: Date;
}

/** A secret of one job type of the organisation: it overrides the organisation's secret of the same name for that type's tasks. */
export interface SealedJobSecret extends SealedSecret {
  readonly jobType: string;
}

export type NewAuditRecord = Omit<AuditRecord, 'seq'>;

/** A submission over its organisation's quota; nothing was written. */
export class QuotaExceededError extends Error {
  override readonly name = 'QuotaExceededError';
}

/** A job type another organisation owns: its name is taken, whatever this caller may see. */
export class ForeignResourceError extends Error {
  override readonly name = 'ForeignResourceError';
}

/**
 * Identity, tokens, secrets and the audit log, on the queens' own database (one seam; both dialects
 * run test/security/security-store.test.ts). Every queen reads the same rows, so a revocation or a
 * quota is the same on all of them.
 */
export interface SecurityStore {
  createOrg(org: { readonly id: string; readonly name: string; readonly quota?: OrgQuota }, at: Date): Promise<Org>;
  org(id: string): Promise<Org | undefined>;
  orgs(): Promise<readonly Org[]>;
  setQuota(orgId: string, quota: OrgQuota): Promise<boolean>;

  createUser(user: { readonly id: string; readonly name: string; readonly platformAdmin?: boolean }, at: Date): Promise<User>;
  user(id: string): Promise<User | undefined>;
  /** Adds or changes the user's role in the organisation. */
  setRole(orgId: string, userId: string, role: Role): Promise<void>;
  role(orgId: string, userId: string): Promise<Role | undefined>;
  /** The organisation's members with their roles, by user id. */
  members(orgId: string): Promise<readonly { readonly user: User; readonly role: Role }[]>;
  createTeam(team: Team): Promise<Team>;
  addTeamMember(teamId: string, userId: string): Promise<void>;
  teams(orgId: string): Promise<readonly (Team & { readonly members: readonly string[] })[]>;

  saveToken(token: NewToken): Promise<void>;
  token(id: string): Promise<TokenRow | undefined>;
  /** Newest first; never the hash. */
  tokens(orgId: string): Promise<readonly Omit<TokenRow, 'hash'>[]>;
  /** Marks it revoked; false when the organisation holds no such token or it already was. */
  revokeToken(orgId: string, id: string, at: Date): Promise<boolean>;
  touchToken(id: string, at: Date): Promise<void>;
  countTokens(): Promise<number>;

  putSecret(secret: SealedSecret): Promise<void>;
  secret(orgId: string, name: string): Promise<SealedSecret | undefined>;
  secrets(orgId?: string): Promise<readonly SealedSecret[]>;
  deleteSecret(orgId: string, name: string): Promise<boolean>;
  /** Replaces the sealed value only if it is still `expected` (a rotation racing an update loses). */
  resealSecret(orgId: string, name: string, expected: string, sealed: string): Promise<boolean>;

  putJobSecret(secret: SealedJobSecret): Promise<void>;
  jobSecret(orgId: string, jobType: string, name: string): Promise<SealedJobSecret | undefined>;
  /** Every job secret, or the organisation's, or one job type's of it; by name. */
  jobSecrets(query?: { readonly orgId?: string; readonly jobType?: string }): Promise<readonly SealedJobSecret[]>;
  deleteJobSecret(orgId: string, jobType: string, name: string): Promise<boolean>;
  /** As {@link resealSecret}, for a job secret. */
  resealJobSecret(orgId: string, jobType: string, name: string, expected: string, sealed: string): Promise<boolean>;
  /** The organisation and job type of a job (whose secrets its tasks read); undefined when there is no such job. */
  jobScope(jobId: string): Promise<{ readonly org: string; readonly jobType: string } | undefined>;

  /** A named value created once, whoever asks first (e.g. the token pepper of a PostgreSQL deployment). */
  setting(name: string, create: () => string): Promise<string>;

  /** Appends a row to the chain: its `seq` and hashes are assigned under a lock, so concurrent writers never fork it. */
  appendAudit(record: NewAuditRecord): Promise<ChainedRecord>;
  /** In `seq` order, after `afterSeq`; optionally only one organisation's rows. */
  audit(query?: { readonly afterSeq?: number; readonly limit?: number; readonly org?: string }): Promise<readonly ChainedRecord[]>;

  /**
   * Counts one request against `key` in the fixed window starting at `windowStart` and returns the
   * window's count so far, this one included: one atomic upsert, so every queen counts the same
   * requests. The first count of a window also deletes every window that ended before it.
   */
  countRequest(key: string, windowStart: number, windowEnd: number): Promise<number>;

  /** The organisation owning a job or job type; undefined when there is none. */
  jobOrg(jobId: string): Promise<string | undefined>;
  definitionOrg(jobType: string): Promise<string | undefined>;
  definitionOrgs(): Promise<ReadonlyMap<string, string>>;

  /** Running-jobs, CPU-hours and artifact-storage limits per organisation and user (issue 17). */
  quotas(): QuotaStore;
}

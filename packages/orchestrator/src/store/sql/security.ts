import { type RawBuilder, sql } from 'kysely';
import { type ChainedRecord, chain, parseScopes } from '../../security/index.js';
import type { QuotaStore } from '../quotas.js';
import {
  type NewAuditRecord,
  type NewToken,
  type Org,
  type OrgQuota,
  QuotaExceededError,
  type Role,
  type SealedJobSecret,
  type SealedSecret,
  type SecurityStore,
  type Team,
  type TokenRow,
  type User,
} from '../security.js';
import { SqlQuotaStore } from './quotas.js';
import type { Executor, SqlDialect } from './sql-store.js';

type Row = Record<string, unknown>;

const num = (value: unknown): number | undefined => (value === null || value === undefined ? undefined : Number(value));
const date = (value: unknown): Date | undefined => (value === null || value === undefined ? undefined : new Date(Number(value)));

/** The quota columns of an `orgs` row; absent limits are left out. */
function toQuota(row: Row): OrgQuota {
  const limits = { maxJobs: num(row.max_jobs), maxQueued: num(row.max_queued), maxSubmitsPerMinute: num(row.max_submits_per_minute) };
  return Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined));
}

function toOrg(row: Row): Org {
  return { id: String(row.id), name: String(row.name), createdAt: new Date(Number(row.created_at)), quota: toQuota(row) };
}

function toUser(row: Row): User {
  return {
    id: String(row.id),
    name: String(row.name),
    platformAdmin: Number(row.platform_admin) === 1,
    createdAt: new Date(Number(row.created_at)),
  };
}

function toToken(row: Row): TokenRow {
  const optional = { expiresAt: date(row.expires_at), lastUsedAt: date(row.last_used_at), revokedAt: date(row.revoked_at) };
  return {
    id: String(row.id),
    hash: String(row.hash),
    orgId: String(row.org_id),
    ...(row.user_id === null || row.user_id === undefined ? {} : { userId: String(row.user_id) }),
    name: String(row.name),
    scopes: parseScopes(JSON.parse(String(row.scopes))),
    createdAt: new Date(Number(row.created_at)),
    ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
    ...(Number(row.ant_shared) === 1 ? { antShared: true } : {}),
  };
}

function toSecret(row: Row): SealedSecret {
  return { orgId: String(row.org_id), name: String(row.name), sealed: String(row.sealed), updatedAt: new Date(Number(row.updated_at)) };
}

function toJobSecret(row: Row): SealedJobSecret {
  return { ...toSecret(row), jobType: String(row.job_type) };
}

function toAudit(row: Row): ChainedRecord {
  return {
    seq: Number(row.seq),
    at: String(row.at),
    org: String(row.org),
    actor: String(row.actor),
    action: String(row.action),
    target: String(row.target),
    source: String(row.source),
    outcome: String(row.outcome) as ChainedRecord['outcome'],
    ...(row.detail === null || row.detail === undefined ? {} : { detail: JSON.parse(String(row.detail)) }),
    prevHash: String(row.prev_hash),
    hash: String(row.hash),
  };
}

async function rows(query: RawBuilder<unknown>, db: Executor): Promise<Row[]> {
  return (await query.execute(db)).rows as Row[];
}
async function affected(query: RawBuilder<unknown>, db: Executor): Promise<number> {
  return Number((await query.execute(db)).numAffectedRows ?? 0);
}

const UNENDED = sql.raw(`('PENDING', 'READY', 'EXECUTING', 'PAUSED')`);
const SUBMIT_WINDOW_MS = 60_000;

/**
 * The rows of `orgs` (aliased `o`) that have a submission quota, the columns toQuota reads: their
 * submits are counted in a transaction (checkOrgQuota), the others' jobs are inserted at once.
 */
export const LIMITED_ORG = sql`(o.max_jobs IS NOT NULL OR o.max_queued IS NOT NULL OR o.max_submits_per_minute IS NOT NULL)`;

/**
 * Refuses, inside the caller's transaction, `adding` new PENDING jobs submitted at `at` that would
 * take the organisation past its quota. The organisation's row is locked first, so queens submitting
 * for the same organisation at once count one after the other and never overshoot together.
 */
export async function checkOrgQuota(tx: Executor, dialect: SqlDialect, org: string, adding: number, at: number): Promise<void> {
  // Unlimited organisations (the common case) take no lock, so their submissions never queue behind each other.
  const [unlocked] = await rows(sql`SELECT * FROM orgs WHERE id = ${org}`, tx);
  if (!unlocked) throw new QuotaExceededError(`organisation '${org}' does not exist`);
  if (Object.keys(toQuota(unlocked)).length === 0) return;
  const [row] = await rows(sql`SELECT * FROM orgs WHERE id = ${org} ${dialect.lock(false)}`, tx);
  const { maxJobs, maxQueued, maxSubmitsPerMinute } = toQuota(row ?? {});
  if (maxJobs !== undefined || maxQueued !== undefined) {
    const [counts] = await rows(
      sql`SELECT COUNT(*) AS unended, SUM(CASE WHEN state = 'PENDING' THEN 1 ELSE 0 END) AS queued
          FROM jobs WHERE org = ${org} AND state IN ${UNENDED}`,
      tx,
    );
    const unended = Number(counts?.unended ?? 0);
    const queued = Number(counts?.queued ?? 0);
    if (maxJobs !== undefined && unended + adding > maxJobs) {
      throw new QuotaExceededError(`organisation '${org}' has ${unended} unfinished jobs; its quota allows ${maxJobs}`);
    }
    if (maxQueued !== undefined && queued + adding > maxQueued) {
      throw new QuotaExceededError(`organisation '${org}' has ${queued} queued jobs; its quota allows ${maxQueued}`);
    }
  }
  if (maxSubmitsPerMinute !== undefined) {
    // A sliding window over the jobs themselves (index jobs_org_submitted): ended jobs count too, so
    // cancelling does not buy more submissions, and no counter row needs resetting.
    const [recent] = await rows(
      sql`SELECT COUNT(*) AS n FROM jobs WHERE org = ${org} AND submitted_at > ${at - SUBMIT_WINDOW_MS} AND submitted_at <= ${at}`,
      tx,
    );
    const submitted = Number(recent?.n ?? 0);
    if (submitted + adding > maxSubmitsPerMinute) {
      throw new QuotaExceededError(
        `organisation '${org}' submitted ${submitted} jobs in the last minute; its quota allows ${maxSubmitsPerMinute} per minute`,
      );
    }
  }
}

/** The security tables on the queens' SQL database, through the job store's own connection and dialect. */
export class SqlSecurityStore implements SecurityStore {
  constructor(
    private readonly db: Executor,
    private readonly dialect: SqlDialect,
    private readonly ready: Promise<unknown>,
  ) {}

  private async read(): Promise<Executor> {
    await this.ready;
    return this.db;
  }

  private async write<T>(work: (tx: Executor) => Promise<T>): Promise<T> {
    await this.ready;
    return this.dialect.transaction(work);
  }

  async createOrg(org: { id: string; name: string; quota?: OrgQuota }, at: Date): Promise<Org> {
    const quota = org.quota ?? {};
    await this.write((tx) =>
      sql`INSERT INTO orgs (id, name, created_at, max_jobs, max_queued, max_submits_per_minute)
          VALUES (${org.id}, ${org.name}, ${at.getTime()}, ${quota.maxJobs ?? null}, ${quota.maxQueued ?? null},
                  ${quota.maxSubmitsPerMinute ?? null})`.execute(tx),
    );
    return (await this.org(org.id)) as Org;
  }

  async org(id: string): Promise<Org | undefined> {
    const [row] = await rows(sql`SELECT * FROM orgs WHERE id = ${id}`, await this.read());
    return row ? toOrg(row) : undefined;
  }

  async orgs(): Promise<readonly Org[]> {
    return (await rows(sql`SELECT * FROM orgs ORDER BY id`, await this.read())).map(toOrg);
  }

  async setQuota(orgId: string, quota: OrgQuota): Promise<boolean> {
    const changed = await this.write((tx) =>
      affected(
        sql`UPDATE orgs SET max_jobs = ${quota.maxJobs ?? null}, max_queued = ${quota.maxQueued ?? null},
              max_submits_per_minute = ${quota.maxSubmitsPerMinute ?? null} WHERE id = ${orgId}`,
        tx,
      ),
    );
    return changed > 0;
  }

  async createUser(user: { id: string; name: string; platformAdmin?: boolean }, at: Date): Promise<User> {
    await this.write((tx) =>
      sql`INSERT INTO users (id, name, platform_admin, created_at) VALUES (${user.id}, ${user.name}, ${user.platformAdmin ? 1 : 0}, ${at.getTime()})`.execute(
        tx,
      ),
    );
    return (await this.user(user.id)) as User;
  }

  async user(id: string): Promise<User | undefined> {
    const [row] = await rows(sql`SELECT * FROM users WHERE id = ${id}`, await this.read());
    return row ? toUser(row) : undefined;
  }

  async setRole(orgId: string, userId: string, role: Role): Promise<void> {
    await this.write((tx) =>
      sql`INSERT INTO memberships (org_id, user_id, role) VALUES (${orgId}, ${userId}, ${role})
          ON CONFLICT (org_id, user_id) DO UPDATE SET role = ${role}`.execute(tx),
    );
  }

  async role(orgId: string, userId: string): Promise<Role | undefined> {
    const [row] = await rows(sql`SELECT role FROM memberships WHERE org_id = ${orgId} AND user_id = ${userId}`, await this.read());
    return row ? (String(row.role) as Role) : undefined;
  }

  async members(orgId: string): Promise<readonly { user: User; role: Role }[]> {
    const found = await rows(
      sql`SELECT u.*, m.role FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.org_id = ${orgId} ORDER BY u.id`,
      await this.read(),
    );
    return found.map((row) => ({ user: toUser(row), role: String(row.role) as Role }));
  }

  async createTeam(team: Team): Promise<Team> {
    await this.write((tx) => sql`INSERT INTO teams (id, org_id, name) VALUES (${team.id}, ${team.orgId}, ${team.name})`.execute(tx));
    return team;
  }

  async addTeamMember(teamId: string, userId: string): Promise<void> {
    await this.write((tx) =>
      sql`INSERT INTO team_members (team_id, user_id) VALUES (${teamId}, ${userId}) ON CONFLICT (team_id, user_id) DO NOTHING`.execute(tx),
    );
  }

  async teams(orgId: string): Promise<readonly (Team & { members: readonly string[] })[]> {
    const db = await this.read();
    const teams = await rows(sql`SELECT * FROM teams WHERE org_id = ${orgId} ORDER BY name`, db);
    const members = await rows(
      sql`SELECT m.team_id, m.user_id FROM team_members m JOIN teams t ON t.id = m.team_id WHERE t.org_id = ${orgId} ORDER BY m.user_id`,
      db,
    );
    return teams.map((row) => ({
      id: String(row.id),
      orgId: String(row.org_id),
      name: String(row.name),
      members: members.filter((m) => m.team_id === row.id).map((m) => String(m.user_id)),
    }));
  }

  async saveToken(token: NewToken): Promise<void> {
    await this.write((tx) =>
      sql`INSERT INTO tokens (id, hash, org_id, user_id, name, scopes, created_at, expires_at, ant_shared)
          VALUES (${token.id}, ${token.hash}, ${token.orgId}, ${token.userId ?? null}, ${token.name}, ${JSON.stringify(token.scopes)},
                  ${token.createdAt.getTime()}, ${token.expiresAt?.getTime() ?? null}, ${token.antShared ? 1 : 0})`.execute(tx),
    );
  }

  async token(id: string): Promise<TokenRow | undefined> {
    const [row] = await rows(sql`SELECT * FROM tokens WHERE id = ${id}`, await this.read());
    return row ? toToken(row) : undefined;
  }

  async tokens(orgId: string): Promise<readonly Omit<TokenRow, 'hash'>[]> {
    const found = await rows(sql`SELECT * FROM tokens WHERE org_id = ${orgId} ORDER BY created_at DESC, id`, await this.read());
    return found.map((row) => {
      const { hash: _hash, ...rest } = toToken(row);
      return rest;
    });
  }

  async revokeToken(orgId: string, id: string, at: Date): Promise<boolean> {
    const changed = await this.write((tx) =>
      affected(sql`UPDATE tokens SET revoked_at = ${at.getTime()} WHERE id = ${id} AND org_id = ${orgId} AND revoked_at IS NULL`, tx),
    );
    return changed > 0;
  }

  async touchToken(id: string, at: Date): Promise<void> {
    await this.write((tx) => sql`UPDATE tokens SET last_used_at = ${at.getTime()} WHERE id = ${id}`.execute(tx));
  }

  async countTokens(): Promise<number> {
    const [row] = await rows(sql`SELECT COUNT(*) AS n FROM tokens`, await this.read());
    return Number(row?.n ?? 0);
  }

  async putSecret(secret: SealedSecret): Promise<void> {
    await this.write((tx) =>
      sql`INSERT INTO secrets (org_id, name, sealed, updated_at) VALUES (${secret.orgId}, ${secret.name}, ${secret.sealed}, ${secret.updatedAt.getTime()})
          ON CONFLICT (org_id, name) DO UPDATE SET sealed = ${secret.sealed}, updated_at = ${secret.updatedAt.getTime()}`.execute(tx),
    );
  }

  async secret(orgId: string, name: string): Promise<SealedSecret | undefined> {
    const [row] = await rows(sql`SELECT * FROM secrets WHERE org_id = ${orgId} AND name = ${name}`, await this.read());
    return row ? toSecret(row) : undefined;
  }

  async secrets(orgId?: string): Promise<readonly SealedSecret[]> {
    const where = orgId === undefined ? sql`` : sql`WHERE org_id = ${orgId}`;
    return (await rows(sql`SELECT * FROM secrets ${where} ORDER BY org_id, name`, await this.read())).map(toSecret);
  }

  async deleteSecret(orgId: string, name: string): Promise<boolean> {
    return (await this.write((tx) => affected(sql`DELETE FROM secrets WHERE org_id = ${orgId} AND name = ${name}`, tx))) > 0;
  }

  async resealSecret(orgId: string, name: string, expected: string, sealed: string): Promise<boolean> {
    const changed = await this.write((tx) =>
      affected(sql`UPDATE secrets SET sealed = ${sealed} WHERE org_id = ${orgId} AND name = ${name} AND sealed = ${expected}`, tx),
    );
    return changed > 0;
  }

  async putJobSecret(secret: SealedJobSecret): Promise<void> {
    const at = secret.updatedAt.getTime();
    await this.write((tx) =>
      sql`INSERT INTO job_secrets (org_id, job_type, name, sealed, updated_at)
          VALUES (${secret.orgId}, ${secret.jobType}, ${secret.name}, ${secret.sealed}, ${at})
          ON CONFLICT (org_id, job_type, name) DO UPDATE SET sealed = ${secret.sealed}, updated_at = ${at}`.execute(tx),
    );
  }

  async jobSecret(orgId: string, jobType: string, name: string): Promise<SealedJobSecret | undefined> {
    const [row] = await rows(
      sql`SELECT * FROM job_secrets WHERE org_id = ${orgId} AND job_type = ${jobType} AND name = ${name}`,
      await this.read(),
    );
    return row ? toJobSecret(row) : undefined;
  }

  async jobSecrets(query: { orgId?: string; jobType?: string } = {}): Promise<readonly SealedJobSecret[]> {
    const org = query.orgId === undefined ? sql`` : sql`AND org_id = ${query.orgId}`;
    const type = query.jobType === undefined ? sql`` : sql`AND job_type = ${query.jobType}`;
    return (await rows(sql`SELECT * FROM job_secrets WHERE 1 = 1 ${org} ${type} ORDER BY org_id, job_type, name`, await this.read())).map(
      toJobSecret,
    );
  }

  async deleteJobSecret(orgId: string, jobType: string, name: string): Promise<boolean> {
    const deleted = await this.write((tx) =>
      affected(sql`DELETE FROM job_secrets WHERE org_id = ${orgId} AND job_type = ${jobType} AND name = ${name}`, tx),
    );
    return deleted > 0;
  }

  async resealJobSecret(orgId: string, jobType: string, name: string, expected: string, sealed: string): Promise<boolean> {
    const changed = await this.write((tx) =>
      affected(
        sql`UPDATE job_secrets SET sealed = ${sealed}
            WHERE org_id = ${orgId} AND job_type = ${jobType} AND name = ${name} AND sealed = ${expected}`,
        tx,
      ),
    );
    return changed > 0;
  }

  async jobScope(jobId: string): Promise<{ org: string; jobType: string } | undefined> {
    const [row] = await rows(sql`SELECT org, job_type FROM jobs WHERE id = ${jobId}`, await this.read());
    return row ? { org: String(row.org), jobType: String(row.job_type) } : undefined;
  }

  async setting(name: string, create: () => string): Promise<string> {
    return this.write(async (tx) => {
      await sql`INSERT INTO security_settings (name, value) VALUES (${name}, ${create()}) ON CONFLICT (name) DO NOTHING`.execute(tx);
      const [row] = await rows(sql`SELECT value FROM security_settings WHERE name = ${name}`, tx);
      return String(row?.value);
    });
  }

  async appendAudit(record: NewAuditRecord): Promise<ChainedRecord> {
    return this.write(async (tx) => {
      const [head] = await rows(sql`SELECT seq, hash FROM audit_head WHERE id = 1 ${this.dialect.lock(false)}`, tx);
      const chained = chain(String(head?.hash), { ...record, seq: Number(head?.seq ?? 0) + 1 });
      await sql`INSERT INTO audit (seq, at, org, actor, action, target, source, outcome, detail, prev_hash, hash)
                VALUES (${chained.seq}, ${chained.at}, ${chained.org}, ${chained.actor}, ${chained.action}, ${chained.target},
                        ${chained.source}, ${chained.outcome}, ${chained.detail === undefined ? null : JSON.stringify(chained.detail)},
                        ${chained.prevHash}, ${chained.hash})`.execute(tx);
      await sql`UPDATE audit_head SET seq = ${chained.seq}, hash = ${chained.hash} WHERE id = 1`.execute(tx);
      return chained;
    });
  }

  async audit(query: { afterSeq?: number; limit?: number; org?: string } = {}): Promise<readonly ChainedRecord[]> {
    const org = query.org === undefined ? sql`` : sql`AND org = ${query.org}`;
    const limit = query.limit ?? 1000;
    return (
      await rows(sql`SELECT * FROM audit WHERE seq > ${query.afterSeq ?? 0} ${org} ORDER BY seq LIMIT ${limit}`, await this.read())
    ).map(toAudit);
  }

  async countRequest(key: string, windowStart: number, windowEnd: number): Promise<number> {
    return this.write(async (tx) => {
      const [row] = await rows(
        sql`INSERT INTO rate_counters (key, window_start, expires_at, count) VALUES (${key}, ${windowStart}, ${windowEnd}, 1)
            ON CONFLICT (key, window_start) DO UPDATE SET count = rate_counters.count + 1 RETURNING count`,
        tx,
      );
      const count = Number(row?.count);
      if (count === 1) await sql`DELETE FROM rate_counters WHERE expires_at <= ${windowStart}`.execute(tx);
      return count;
    });
  }

  async jobOrg(jobId: string): Promise<string | undefined> {
    const [row] = await rows(sql`SELECT org FROM jobs WHERE id = ${jobId}`, await this.read());
    return row ? String(row.org) : undefined;
  }

  async definitionOrg(jobType: string): Promise<string | undefined> {
    const [row] = await rows(sql`SELECT org FROM definition_types WHERE job_type = ${jobType}`, await this.read());
    return row ? String(row.org) : undefined;
  }

  quotas(): QuotaStore {
    return new SqlQuotaStore(this.db, this.ready);
  }

  async definitionOrgs(): Promise<ReadonlyMap<string, string>> {
    const found = await rows(sql`SELECT job_type, org FROM definition_types`, await this.read());
    return new Map(found.map((row) => [String(row.job_type), String(row.org)]));
  }
}

/**
 * 0010-tenancy (issue 17): ant tokens bound to their organisation unless marked shared (the ant
 * tokens of the `default` organisation, the platform's own, stay shared as they served every
 * organisation before; other organisations' ant tokens become bound to them); the organisation an
 * ant serves, for the ant list; the submission rate quota and the index its window count walks.
 */
export const TENANCY_SCHEMA = `
  ALTER TABLE tokens ADD COLUMN ant_shared INTEGER NOT NULL DEFAULT 0;
  UPDATE tokens SET ant_shared = 1 WHERE org_id = 'default' AND scopes LIKE '%"ant"%';
  ALTER TABLE ants ADD COLUMN org TEXT;
  ALTER TABLE orgs ADD COLUMN max_submits_per_minute INTEGER;
  CREATE INDEX jobs_org_submitted ON jobs (org, submitted_at)
`;

/**
 * 0011-rate-limits (issue 17): request counters every queen shares, one row per key (a token, an
 * organisation) and fixed window; rows of ended windows are deleted as new windows start.
 */
export const RATE_LIMIT_SCHEMA = `
  CREATE TABLE rate_counters (
    key TEXT NOT NULL,
    window_start $BIG NOT NULL,
    expires_at $BIG NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (key, window_start)
  );
  CREATE INDEX rate_counters_expiry ON rate_counters (expires_at)
`;

/**
 * 0018 (issue 17): secrets of one job type of an organisation, sealed like the organisation's (their
 * authenticated context names the job type, so a ciphertext moved to another type does not open).
 */
export const JOB_SECRETS_SCHEMA = `
  CREATE TABLE job_secrets (
    org_id TEXT NOT NULL REFERENCES orgs(id),
    job_type TEXT NOT NULL,
    name TEXT NOT NULL,
    sealed TEXT NOT NULL,
    updated_at $BIG NOT NULL,
    PRIMARY KEY (org_id, job_type, name)
  )
`;

import { outboxDdl, outboxTables } from '@myrmex/tx/outbox';
import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';
import { StoreError } from '../store.js';
import { ANTS_SCHEMA } from './ants.js';
import { APPROVALS_SCHEMA } from './approvals.js';
import { WORKFLOWS_SCHEMA } from './artifacts.js';
import { CIRCUIT_BREAKERS_SCHEMA } from './circuit-breakers.js';
import { CONSUMABLES_SCHEMA } from './consumables.js';
import { renameToJobTypeNamespaces } from './job-type-namespaces.js';
import { LOG_BATCHES_SCHEMA } from './log-batches.js';
import { PLACEMENT_SCHEMA } from './placement.js';
import { CPU_TIME_SCHEMA, QUOTA_SCHEMA } from './quotas.js';
import { SCHEDULING_SCHEMA } from './scheduling.js';
import { JOB_SECRETS_SCHEMA, RATE_LIMIT_SCHEMA, TENANCY_SCHEMA } from './security.js';
import { WORKFLOW_EVENTS_SCHEMA } from './workflow-events.js';

export type DialectName = 'sqlite' | 'postgres';

/**
 * Versioned schema changes, run by Kysely's Migrator on open. A released migration is never
 * edited: later issues append new ones. On PostgreSQL the Migrator holds an advisory lock while it
 * runs, so several queens starting at once migrate once.
 *
 * Types are written once for both dialects: `$ID` is the append-only sequence key, `$BIG` an epoch
 * millisecond or counter. Partial indexes keep every hot query (due jobs, ready tasks, expired
 * leases, deadlines) a range scan over the few rows it wants, however long the history.
 */
const SCHEMA_1 = `
  CREATE TABLE definition_types (
    job_type TEXT PRIMARY KEY,
    disabled INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE definitions (
    job_type TEXT NOT NULL REFERENCES definition_types(job_type),
    version INTEGER NOT NULL,
    definition TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at $BIG NOT NULL,
    PRIMARY KEY (job_type, version)
  );
  CREATE TABLE jobs (
    seq $ID,
    id TEXT NOT NULL UNIQUE,
    job_type TEXT NOT NULL,
    version INTEGER NOT NULL,
    state TEXT NOT NULL,
    priority INTEGER NOT NULL,
    params TEXT NOT NULL,
    submitted_at $BIG NOT NULL,
    scheduled_at $BIG NOT NULL,
    started_at $BIG,
    ended_at $BIG,
    retry INTEGER NOT NULL DEFAULT 0,
    reason TEXT,
    stop TEXT,
    deadline_at $BIG,
    revision $BIG NOT NULL DEFAULT 0
  );
  CREATE INDEX jobs_due ON jobs (state, priority DESC, seq);
  CREATE INDEX jobs_type_state ON jobs (job_type, state);
  CREATE INDEX jobs_state_seq ON jobs (state, seq);
  CREATE INDEX jobs_deadline ON jobs (deadline_at) WHERE deadline_at IS NOT NULL AND stop IS NULL;
  CREATE TABLE tasks (
    job_id TEXT NOT NULL,
    task_type TEXT NOT NULL,
    position INTEGER NOT NULL,
    state TEXT NOT NULL,
    attempt INTEGER NOT NULL DEFAULT 0,
    run_attempts INTEGER NOT NULL DEFAULT 0,
    exit_code INTEGER,
    reason TEXT,
    outputs TEXT NOT NULL DEFAULT '{}',
    route TEXT,
    fatal INTEGER NOT NULL DEFAULT 0,
    not_before $BIG,
    ended_at $BIG,
    kill TEXT,
    priority INTEGER NOT NULL DEFAULT 0,
    job_seq $BIG NOT NULL DEFAULT 0,
    PRIMARY KEY (job_id, task_type)
  );
  CREATE INDEX tasks_ready ON tasks (priority DESC, job_seq, position) WHERE state = 'READY';
  CREATE INDEX tasks_waiting ON tasks (not_before) WHERE state = 'READY' AND not_before IS NOT NULL;
  CREATE TABLE attempts (
    job_id TEXT NOT NULL,
    task_type TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    state TEXT NOT NULL,
    exit_code INTEGER,
    started_at $BIG NOT NULL,
    ended_at $BIG,
    reason TEXT,
    ant_id TEXT,
    owner TEXT,
    lease_until $BIG,
    PRIMARY KEY (job_id, task_type, attempt)
  );
  CREATE INDEX attempts_lease ON attempts (lease_until) WHERE state = 'EXECUTING';
  CREATE INDEX attempts_owner ON attempts (owner) WHERE state = 'EXECUTING';
  CREATE TABLE events (
    seq $ID,
    job_id TEXT NOT NULL,
    task_type TEXT,
    from_state TEXT,
    to_state TEXT NOT NULL,
    at $BIG NOT NULL,
    reason TEXT
  );
  CREATE INDEX events_job ON events (job_id, seq);
  CREATE TABLE logs (
    seq $ID,
    job_id TEXT NOT NULL,
    task_type TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    stream TEXT NOT NULL,
    at $BIG NOT NULL,
    text TEXT NOT NULL
  );
  CREATE INDEX logs_job ON logs (job_id, seq);
  CREATE TABLE ants (
    id TEXT PRIMARY KEY,
    methods TEXT NOT NULL,
    tags TEXT NOT NULL,
    capacity INTEGER NOT NULL,
    running INTEGER NOT NULL,
    last_seen_at $BIG NOT NULL
  );
  CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at $BIG NOT NULL
  );
`;

/**
 * Issue 17: organisations own jobs and job types (existing rows join the `default` organisation);
 * tokens are stored as keyed hashes; the audit log is one hash chain whose `seq` is assigned under
 * the lock on `audit_head`, so rows from several queens stay gapless.
 */
const SCHEMA_SECURITY = `
  CREATE TABLE orgs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at $BIG NOT NULL,
    max_jobs INTEGER,
    max_queued INTEGER
  );
  INSERT INTO orgs (id, name, created_at) VALUES ('default', 'default', 0);
  CREATE TABLE users (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    platform_admin INTEGER NOT NULL DEFAULT 0,
    created_at $BIG NOT NULL
  );
  CREATE TABLE memberships (
    org_id TEXT NOT NULL REFERENCES orgs(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    role TEXT NOT NULL,
    PRIMARY KEY (org_id, user_id)
  );
  CREATE TABLE teams (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id),
    name TEXT NOT NULL,
    UNIQUE (org_id, name)
  );
  CREATE TABLE team_members (
    team_id TEXT NOT NULL REFERENCES teams(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    PRIMARY KEY (team_id, user_id)
  );
  CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    hash TEXT NOT NULL,
    org_id TEXT NOT NULL REFERENCES orgs(id),
    user_id TEXT REFERENCES users(id),
    name TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_at $BIG NOT NULL,
    expires_at $BIG,
    last_used_at $BIG,
    revoked_at $BIG
  );
  CREATE INDEX tokens_org ON tokens (org_id, created_at);
  CREATE TABLE secrets (
    org_id TEXT NOT NULL REFERENCES orgs(id),
    name TEXT NOT NULL,
    sealed TEXT NOT NULL,
    updated_at $BIG NOT NULL,
    PRIMARY KEY (org_id, name)
  );
  CREATE TABLE security_settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY,
    seq $BIG NOT NULL,
    hash TEXT NOT NULL
  );
  INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '${'0'.repeat(64)}');
  CREATE TABLE audit (
    seq $BIG PRIMARY KEY,
    at TEXT NOT NULL,
    org TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    source TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
  );
  CREATE INDEX audit_org ON audit (org, seq);
  ALTER TABLE jobs ADD COLUMN org TEXT NOT NULL DEFAULT 'default';
  CREATE INDEX jobs_org_state ON jobs (org, state);
  ALTER TABLE definition_types ADD COLUMN org TEXT NOT NULL DEFAULT 'default'
`;

/**
 * Issue 11: the job list pages by cursor (newest first) under a filter on its job type or
 * organisation, walking these indexes from the cursor. Neither holds the state, so a transition
 * never updates them.
 */
const CORE_SCHEMA_6 = `
  CREATE INDEX jobs_type_seq ON jobs (job_type, seq);
  CREATE INDEX jobs_org_seq ON jobs (org, seq)
`;

/**
 * Issue 16: the job list's time range walks `submitted_at`, and its text search range-scans the
 * ids by prefix: LIKE 'abc%' can use SQLite's NOCASE copy of the id (its LIKE ignores case) and
 * PostgreSQL's text_pattern_ops one (whatever the database's collation).
 */
const JOB_LIST_SCHEMA: Record<DialectName, string> = {
  sqlite: `CREATE INDEX jobs_submitted ON jobs (submitted_at); CREATE INDEX jobs_id_prefix ON jobs (id COLLATE NOCASE)`,
  postgres: `CREATE INDEX jobs_submitted ON jobs (submitted_at); CREATE INDEX jobs_id_prefix ON jobs (id text_pattern_ops)`,
};

/**
 * Issue 11: the indexes of jobs keyed on its state (every transition moved the job in all four)
 * become partial indexes that a transition between two live states (PENDING, READY, EXECUTING,
 * PAUSED) rewrites in place, at the same key, or not at all: the due page walks `jobs_pending`, the
 * admitted counts per type `jobs_type_admitted`, the organisations' quotas `jobs_org_unended`, and
 * a job list by state `jobs_unended` (live states, few rows) or `jobs_ended` (written once, when a
 * job ends). Fewer index pages are dirtied per commit (bench/sqlite-cost.ts: 29.0 -> 24.5 KB written
 * per job draining a backlog, 178 -> 163 in a burst of awaited submits). Queries name
 * these states as literals (`LIVE`, `ADMITTED`, `ENDED` in hot-queries.ts), written exactly as
 * here: a partial index serves a query only when its condition appears in the query's.
 */
const PARTIAL_STATE_INDEXES = `
  DROP INDEX jobs_due;
  DROP INDEX jobs_type_state;
  DROP INDEX jobs_state_seq;
  DROP INDEX jobs_org_state;
  CREATE INDEX jobs_pending ON jobs (priority DESC, seq) WHERE state = 'PENDING';
  CREATE INDEX jobs_type_admitted ON jobs (job_type) WHERE state IN ('READY', 'EXECUTING', 'PAUSED');
  CREATE INDEX jobs_org_unended ON jobs (org) WHERE state IN ('PENDING', 'READY', 'EXECUTING', 'PAUSED');
  CREATE INDEX jobs_unended ON jobs (seq) WHERE state IN ('PENDING', 'READY', 'EXECUTING', 'PAUSED');
  CREATE INDEX jobs_ended ON jobs (state, seq) WHERE state IN ('COMPLETED', 'FAILED', 'CANCELLED')
`;

/**
 * Issue 11: a bulk submit on PostgreSQL ran at 34-39k jobs/s to graphile-worker's 50-59k (0.66-0.68x,
 * quiet machine), writing 13 index entries per job (10 into jobs, 1 per task, 2 per timeline row)
 * against its 4. Two of the ten were the same key twice: the unique constraint's index on `id` and
 * `jobs_id_prefix`, its text_pattern_ops copy for the job list's prefix search. One unique index with
 * text_pattern_ops serves both: that operator class keeps ordinary equality (`id = $1`, `id IN`,
 * joins on the id, and `ON CONFLICT (id)`, whose inference accepts any unique index on the column)
 * besides LIKE 'prefix%'. Nothing names the constraint and no foreign key points at jobs.id; its
 * name is looked up rather than assumed (`jobs_id_key`). The new index is built before the old ones
 * go, in the migration's transaction, so uniqueness never lapses, and the Migrator's advisory lock
 * keeps queens starting together from running it twice. WAL per submitted job: 1,557 -> 1,454 bytes.
 *
 * Every other index of jobs is the only range scan of some query (test/store/plans.test.ts): a time
 * range or a state without an organisation (platform listings, the job-end recovery) walks
 * `jobs_submitted`, `jobs_unended` or `jobs_ended`; an organisation's submission-rate window
 * `jobs_org_submitted`, its quota count `jobs_org_unended`. SQLite keeps its two: a NOCASE unique
 * index would make ids unique regardless of case, and `id = ?` (BINARY) could not search it.
 */
const SLIM_JOB_INDEXES: Record<DialectName, readonly string[]> = {
  sqlite: [],
  postgres: [
    'CREATE UNIQUE INDEX jobs_id ON jobs (id text_pattern_ops)',
    `DO $$
     DECLARE c name;
     BEGIN
       FOR c IN SELECT conname FROM pg_constraint
                WHERE conrelid = 'jobs'::regclass AND contype = 'u'
                  AND conkey = ARRAY[(SELECT attnum FROM pg_attribute WHERE attrelid = 'jobs'::regclass AND attname = 'id')]
       LOOP
         EXECUTE format('ALTER TABLE jobs DROP CONSTRAINT %I', c);
       END LOOP;
     END $$`,
    'DROP INDEX jobs_id_prefix',
  ],
};

/**
 * Issue 11: the timeline on PostgreSQL is keyed by (job_id, seq), the order it is only ever read in
 * (a job's rows by seq; an approval's latest READY row), instead of seq alone plus `events_job`: every
 * timeline row (one per job at submit, one per transition after) writes one index entry, not two.
 * Nothing reads events by seq alone, and the identity still numbers them uniquely. migrate-store
 * replaces a copied row by the target's own primary key (copy.ts), so copying again stays a
 * rewrite. The old key's name is looked up; all of it runs in the migration's transaction. With
 * 0024: WAL per submitted job 1,557 -> 1,386 bytes, the server's CPU 21.3 -> 20.1 µs per job (four
 * interleaved A/B runs of 92 batches of 1,000, loaded machine).
 */
const TIMELINE_KEY: Record<DialectName, readonly string[]> = {
  sqlite: [],
  postgres: [
    `DO $$
     DECLARE c name;
     BEGIN
       SELECT conname INTO c FROM pg_constraint WHERE conrelid = 'events'::regclass AND contype = 'p';
       IF c IS NOT NULL THEN EXECUTE format('ALTER TABLE events DROP CONSTRAINT %I', c); END IF;
     END $$`,
    'ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (job_id, seq)',
    'DROP INDEX events_job',
  ],
};

const TYPES: Record<DialectName, Record<string, string>> = {
  sqlite: { $ID: 'INTEGER PRIMARY KEY AUTOINCREMENT', $BIG: 'INTEGER' },
  postgres: { $ID: 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY', $BIG: 'BIGINT' },
};

function statements(schema: string, dialect: DialectName): string[] {
  const typed = schema.replace(/\$ID|\$BIG/g, (token) => TYPES[dialect][token]!);
  return typed
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Migration names in order; the newest is the schema version this code writes. */
export const MIGRATION_NAMES = [
  '0001-core',
  '0002-security',
  '0003-ants',
  '0004-workflows',
  '0005-events',
  '0006-core',
  '0007-scheduling',
  '0008-approvals',
  '0009-job-list',
  '0010-tenancy',
  '0011-rate-limits',
  '0014-workflow-events',
  '0015-consumables-breakers',
  '0016-placement',
  '0018-quotas',
  '0019-log-batches',
  '0020-cpu-time',
  '0021-partial-state-indexes',
  '0023-job-type-namespaces',
  '0024-slim-job-indexes',
  '0025-timeline-key',
] as const;

/** A migration that runs these statements in order. */
const running = (list: readonly string[]): Migration => ({
  async up(db: Kysely<unknown>) {
    for (const statement of list) await sql.raw(statement).execute(db);
  },
});

export function migrations(dialect: DialectName): Record<string, Migration> {
  return {
    '0001-core': running(statements(SCHEMA_1, dialect)),
    '0002-security': running(statements(SCHEMA_SECURITY, dialect)),
    '0003-ants': running(statements(ANTS_SCHEMA, dialect)),
    '0004-workflows': running(statements(WORKFLOWS_SCHEMA, dialect)),
    // The outbox of the queen's lifecycle events (src/events), as @myrmex/tx lays it out.
    '0005-events': running(outboxDdl(dialect, outboxTables('myrmex_events'))),
    '0006-core': running(statements(CORE_SCHEMA_6, dialect)),
    '0007-scheduling': running(statements(SCHEDULING_SCHEMA, dialect)),
    '0008-approvals': running(statements(APPROVALS_SCHEMA, dialect)),
    '0009-job-list': running(statements(JOB_LIST_SCHEMA[dialect], dialect)),
    '0010-tenancy': running(statements(TENANCY_SCHEMA, dialect)),
    '0011-rate-limits': running(statements(RATE_LIMIT_SCHEMA, dialect)),
    '0014-workflow-events': running(statements(WORKFLOW_EVENTS_SCHEMA, dialect)),
    '0015-consumables-breakers': running([CONSUMABLES_SCHEMA, CIRCUIT_BREAKERS_SCHEMA].flatMap((schema) => statements(schema, dialect))),
    '0016-placement': running(statements(PLACEMENT_SCHEMA, dialect)),
    '0018-quotas': running([QUOTA_SCHEMA, JOB_SECRETS_SCHEMA].flatMap((schema) => statements(schema, dialect))),
    '0019-log-batches': running(statements(LOG_BATCHES_SCHEMA, dialect)),
    '0020-cpu-time': running(statements(CPU_TIME_SCHEMA, dialect)),
    '0021-partial-state-indexes': running(statements(PARTIAL_STATE_INDEXES, dialect)),
    '0023-job-type-namespaces': {
      up: renameToJobTypeNamespaces,
    },
    '0024-slim-job-indexes': running(SLIM_JOB_INDEXES[dialect]),
    '0025-timeline-key': running(TIMELINE_KEY[dialect]),
  };
}

/** Applies every migration the database lacks; refuses a database migrated by a newer Myrmex. */
export async function migrateToLatest(db: Kysely<unknown>, dialect: DialectName): Promise<string> {
  const provider: MigrationProvider = { getMigrations: async () => migrations(dialect) };
  // Numbers are handed out to parallel work, so one may land after a higher one has run somewhere: each runs once, in any order.
  const migrator = new Migrator({
    db,
    provider,
    migrationTableName: 'myrmex_migration',
    migrationLockTableName: 'myrmex_migration_lock',
    allowUnorderedMigrations: true,
  });
  const known = new Set<string>(MIGRATION_NAMES);
  const applied = await sql<{ name: string }>`SELECT name FROM myrmex_migration`
    .execute(db)
    .then((r) => r.rows.map((row) => row.name))
    .catch(() => [] as string[]);
  const unknown = applied.filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new StoreError(
      `database schema version ${unknown.join(', ')} is newer than this orchestrator knows (${MIGRATION_NAMES.at(-1)}); upgrade Myrmex`,
    );
  }
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new StoreError(`schema migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  return MIGRATION_NAMES.at(-1)!;
}

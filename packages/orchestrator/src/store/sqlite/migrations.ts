import type { Database } from 'better-sqlite3';

/**
 * Versioned schema changes, applied in order on open. A released migration is never edited:
 * later issues append new ones, so databases created by this version upgrade in place.
 */
export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'definitions, jobs, tasks, attempts, timeline, logs, ants',
    sql: `
      CREATE TABLE definition_types (
        job_type TEXT PRIMARY KEY,
        disabled INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE definitions (
        job_type TEXT NOT NULL REFERENCES definition_types(job_type),
        version INTEGER NOT NULL,
        definition TEXT NOT NULL,
        source TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (job_type, version)
      );
      CREATE TABLE jobs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        job_type TEXT NOT NULL,
        version INTEGER NOT NULL,
        state TEXT NOT NULL,
        priority INTEGER NOT NULL,
        params TEXT NOT NULL,
        submitted_at INTEGER NOT NULL,
        scheduled_at INTEGER NOT NULL,
        started_at INTEGER,
        ended_at INTEGER,
        retry INTEGER NOT NULL DEFAULT 0,
        reason TEXT,
        stop TEXT,
        deadline_at INTEGER
      );
      CREATE INDEX jobs_pending ON jobs (state, priority DESC, seq) ;
      CREATE INDEX jobs_type_state ON jobs (job_type, state);
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
        not_before INTEGER,
        ended_at INTEGER,
        PRIMARY KEY (job_id, task_type)
      );
      CREATE INDEX tasks_state ON tasks (state, not_before);
      CREATE TABLE attempts (
        job_id TEXT NOT NULL,
        task_type TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        state TEXT NOT NULL,
        exit_code INTEGER,
        started_at INTEGER NOT NULL,
        ended_at INTEGER,
        reason TEXT,
        ant_id TEXT,
        pid INTEGER,
        PRIMARY KEY (job_id, task_type, attempt)
      );
      CREATE INDEX attempts_state ON attempts (state);
      CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        job_id TEXT NOT NULL,
        task_type TEXT,
        from_state TEXT,
        to_state TEXT NOT NULL,
        at INTEGER NOT NULL,
        reason TEXT
      );
      CREATE INDEX events_job ON events (job_id, seq);
      CREATE TABLE logs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        job_id TEXT NOT NULL,
        task_type TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        stream TEXT NOT NULL,
        at INTEGER NOT NULL,
        text TEXT NOT NULL
      );
      CREATE INDEX logs_job ON logs (job_id, seq);
      CREATE TABLE ants (
        id TEXT PRIMARY KEY,
        methods TEXT NOT NULL,
        tags TEXT NOT NULL,
        capacity INTEGER NOT NULL,
        running INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 2,
    description: 'leases: one live queen per database',
    sql: `
      CREATE TABLE leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        expires_at INTEGER NOT NULL
      );
    `,
  },
];

/** Applies every migration newer than the database, each in its own transaction. */
export function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS): number {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL)',
  );
  const current = (db.prepare('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations').get() as { v: number }).v;
  const newest = migrations.at(-1)?.version ?? 0;
  if (current > newest) {
    throw new Error(`database schema version ${current} is newer than this orchestrator knows (${newest}); upgrade Myrmex`);
  }
  const record = db.prepare('INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)');
  for (const migration of migrations) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      record.run(migration.version, migration.description, Date.now());
    }).immediate();
  }
  return newest;
}

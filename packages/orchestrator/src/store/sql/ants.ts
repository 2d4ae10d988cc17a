import { type RawBuilder, sql } from 'kysely';
import type { AntInfo } from '../../domain/types.js';
import type { Executor } from './sql-store.js';

type Row = Record<string, unknown>;

/** Both dialects: the upsert keeps `drain` unless `fresh`, and returns it. */
export function saveAntQuery(ant: AntInfo, fresh: boolean): RawBuilder<Row> {
  const reset = fresh ? sql`, drain = 0` : sql``;
  return sql<Row>`INSERT INTO ants (id, methods, tags, capacity, running, last_seen_at, labels, resources, version, remote, queen,
                  expires_at, draining, assignments, org)
    VALUES (${ant.id}, ${JSON.stringify(ant.methods)}, ${JSON.stringify(ant.tags)}, ${ant.capacity}, ${ant.running},
            ${ant.lastSeenAt.getTime()}, ${JSON.stringify(ant.labels ?? {})}, ${JSON.stringify(ant.resources ?? {})}, ${ant.version ?? null},
            ${ant.remote ? 1 : 0}, ${ant.queen ?? null}, ${ant.expiresAt ?? null}, ${ant.draining ? 1 : 0},
            ${JSON.stringify(ant.assignments ?? [])}, ${ant.org ?? null})
    ON CONFLICT (id) DO UPDATE SET methods = excluded.methods, tags = excluded.tags, capacity = excluded.capacity,
      running = excluded.running, last_seen_at = excluded.last_seen_at, labels = excluded.labels, resources = excluded.resources,
      version = excluded.version, remote = excluded.remote, queen = excluded.queen, expires_at = excluded.expires_at,
      draining = excluded.draining, assignments = excluded.assignments, org = excluded.org${reset}
    RETURNING drain`;
}

export async function saveAnt(tx: Executor, ant: AntInfo, fresh: boolean): Promise<{ drainRequested: boolean }> {
  const { rows } = await saveAntQuery(ant, fresh).execute(tx);
  return { drainRequested: Number(rows[0]?.drain ?? 0) === 1 };
}

export async function antGone(tx: Executor, id: string, queen: string, at: number): Promise<void> {
  await sql`UPDATE ants SET expires_at = ${at}, running = 0, assignments = '[]' WHERE id = ${id} AND queen = ${queen}`.execute(tx);
}

export async function requestAntDrain(tx: Executor, id: string): Promise<boolean> {
  const result = await sql`UPDATE ants SET drain = 1 WHERE id = ${id}`.execute(tx);
  return Number(result.numAffectedRows ?? 0) > 0;
}

export async function listAnts(db: Executor, now: number): Promise<AntInfo[]> {
  const { rows } = await sql<Row>`SELECT * FROM ants ORDER BY id`.execute(db);
  return rows.map((r) => toAntInfo(r, now));
}

const optStr = (v: unknown): string | undefined => (v === null || v === undefined ? undefined : String(v));

function toAntInfo(r: Row, now: number): AntInfo {
  const expiresAt = r.expires_at === null || r.expires_at === undefined ? undefined : Number(r.expires_at);
  const version = optStr(r.version);
  const queen = optStr(r.queen);
  const org = optStr(r.org);
  return {
    id: String(r.id),
    methods: JSON.parse(String(r.methods)) as string[],
    tags: JSON.parse(String(r.tags)) as string[],
    capacity: Number(r.capacity),
    running: Number(r.running),
    lastSeenAt: new Date(Number(r.last_seen_at)),
    labels: JSON.parse(String(r.labels ?? '{}')) as Record<string, string>,
    resources: JSON.parse(String(r.resources ?? '{}')) as Record<string, string>,
    ...(version === undefined ? {} : { version }),
    remote: Number(r.remote) === 1,
    ...(queen === undefined ? {} : { queen }),
    ...(org === undefined ? {} : { org }),
    // Rows from before 0003 have no expiry: connected means seen within the embedded ant's heartbeat window.
    connected: (expiresAt ?? Number(r.last_seen_at) + 15_000) > now,
    ...(expiresAt === undefined ? {} : { expiresAt }),
    draining: Number(r.draining) === 1 || Number(r.drain) === 1,
    assignments: JSON.parse(String(r.assignments ?? '[]')) as string[],
  };
}

/** 0003-ants (issue 12): the registry columns; see AntDirectory. `$BIG` is the migrations' epoch-ms type. */
export const ANTS_SCHEMA = `
  ALTER TABLE ants ADD COLUMN labels TEXT NOT NULL DEFAULT '{}';
  ALTER TABLE ants ADD COLUMN resources TEXT NOT NULL DEFAULT '{}';
  ALTER TABLE ants ADD COLUMN version TEXT;
  ALTER TABLE ants ADD COLUMN remote INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE ants ADD COLUMN queen TEXT;
  ALTER TABLE ants ADD COLUMN expires_at $BIG;
  ALTER TABLE ants ADD COLUMN draining INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE ants ADD COLUMN drain INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE ants ADD COLUMN assignments TEXT NOT NULL DEFAULT '[]'
`;

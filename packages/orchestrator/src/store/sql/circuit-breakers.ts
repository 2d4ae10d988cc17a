import { sql } from 'kysely';
import type { BreakerPhase, BreakerState } from '../../domain/circuit-breaker.js';
import type { CircuitBreakerStore } from '../circuit-breakers.js';
import type { Executor } from './sql-store.js';

type Row = Record<string, unknown>;

/** Migration 0015 (with the consumables): one row per HTTP target host that ever failed or recovered. */
export const CIRCUIT_BREAKERS_SCHEMA = `
  CREATE TABLE circuit_breakers (
    host TEXT PRIMARY KEY,
    phase TEXT NOT NULL,
    failures INTEGER NOT NULL,
    opened_at $BIG,
    probe_until $BIG,
    last_error TEXT,
    updated_at $BIG NOT NULL,
    revision $BIG NOT NULL
  )
`;

const opt = (value: unknown) => (value === null || value === undefined ? undefined : Number(value));

function toState(row: Row): BreakerState {
  const openedAt = opt(row.opened_at);
  const probeUntil = opt(row.probe_until);
  return {
    host: String(row.host),
    phase: String(row.phase) as BreakerPhase,
    failures: Number(row.failures),
    ...(openedAt === undefined ? {} : { openedAt }),
    ...(probeUntil === undefined ? {} : { probeUntil }),
    ...(row.last_error === null || row.last_error === undefined ? {} : { lastError: String(row.last_error) }),
    updatedAt: Number(row.updated_at),
  };
}

/** Each method is one statement, atomic on its own; the revision is the compare-and-set. */
export class SqlCircuitBreakerStore implements CircuitBreakerStore {
  constructor(
    private readonly db: Executor,
    private readonly ready: Promise<unknown>,
  ) {}

  async read(host: string): Promise<{ state: BreakerState; revision: number } | undefined> {
    await this.ready;
    const { rows } = await sql<Row>`SELECT * FROM circuit_breakers WHERE host = ${host}`.execute(this.db);
    const row = rows[0];
    return row === undefined ? undefined : { state: toState(row), revision: Number(row.revision) };
  }

  async compareAndSet(next: BreakerState, revision: number | undefined): Promise<boolean> {
    await this.ready;
    const values = [
      next.phase,
      next.failures,
      next.openedAt ?? null,
      next.probeUntil ?? null,
      next.lastError ?? null,
      next.updatedAt,
    ] as const;
    const [phase, failures, openedAt, probeUntil, lastError, updatedAt] = values;
    const result =
      revision === undefined
        ? await sql`INSERT INTO circuit_breakers (host, phase, failures, opened_at, probe_until, last_error, updated_at, revision)
            VALUES (${next.host}, ${phase}, ${failures}, ${openedAt}, ${probeUntil}, ${lastError}, ${updatedAt}, 1)
            ON CONFLICT (host) DO NOTHING`.execute(this.db)
        : await sql`UPDATE circuit_breakers SET phase = ${phase}, failures = ${failures}, opened_at = ${openedAt},
            probe_until = ${probeUntil}, last_error = ${lastError}, updated_at = ${updatedAt}, revision = revision + 1
            WHERE host = ${next.host} AND revision = ${revision}`.execute(this.db);
    return Number(result.numAffectedRows ?? 0) > 0;
  }

  async list(): Promise<readonly BreakerState[]> {
    await this.ready;
    const { rows } = await sql<Row>`SELECT * FROM circuit_breakers ORDER BY updated_at DESC, host`.execute(this.db);
    return rows.map(toState);
  }
}

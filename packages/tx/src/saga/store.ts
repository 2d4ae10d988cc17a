import { withPlaceholders } from '../adapters/placeholders.js';
import { checkIdentifier } from '../locking/identifiers.js';
import type { TransactionManager } from '../manager/manager.js';
import { ACTIVE, type SagaState, type SagaStatus } from './state.js';

type AnyManager = TransactionManager<unknown, unknown>;

/** Writers of several processes meet on SQLite's one write lock (SQLITE_BUSY) and in deadlocks elsewhere: try again. */
const WRITE = { retry: { attempts: 20, baseDelayMs: 5, maxDelayMs: 200 } } as const;

export interface SagaRecord {
  readonly id: string;
  readonly name: string;
  readonly status: SagaStatus;
  readonly version: number;
  readonly owner: string | null;
  readonly leaseUntil: number | null;
  readonly state: SagaState;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** One line of a saga's timeline: every transition writes one, in the same transaction. */
export interface SagaEvent {
  readonly sagaId: string;
  readonly seq: number;
  readonly at: number;
  readonly kind: string;
  readonly step: string | null;
  readonly detail: Record<string, unknown>;
}

/** The saga's row changed under this process (another one took it over): stop driving it. */
export class SagaOwnershipLostError extends Error {
  constructor(readonly sagaId: string) {
    super(`saga ${sagaId} is no longer owned by this runner (its lease expired and another process took it over)`);
    this.name = 'SagaOwnershipLostError';
  }
}

interface Row {
  id: string;
  name: string;
  status: SagaStatus;
  version: number | string;
  owner: string | null;
  lease_until: number | string | null;
  state: string;
  created_at: number | string;
  updated_at: number | string;
}

/**
 * The saga state machine in SQL through a TransactionManager (PostgreSQL, MariaDB or SQLite). Every
 * transition is one transaction: a compare-and-set of the row on its version and owner, plus its
 * timeline event.
 */
export class SagaStore {
  readonly #tm: AnyManager;
  readonly #sagas: string;
  readonly #events: string;

  constructor(tm: TransactionManager<unknown, unknown>, options: { table?: string } = {}) {
    if (tm === null || typeof tm !== 'object' || typeof tm.run !== 'function')
      throw new TypeError('SagaStore(tm): expected a TransactionManager');
    const table = checkIdentifier(options.table ?? 'myrmex_saga', 'SagaStore options.table');
    this.#tm = tm;
    this.#sagas = table;
    this.#events = `${table}_event`;
  }

  get manager(): AnyManager {
    return this.#tm;
  }

  #sql(text: string): string {
    return withPlaceholders(this.#tm.driver, text);
  }

  async ensureSchema(): Promise<void> {
    const dialect = this.#tm.dialect;
    const text = dialect === 'mysql' ? 'LONGTEXT' : 'TEXT';
    const key = dialect === 'mysql' ? 'VARCHAR(191)' : 'VARCHAR(200)';
    const statements = [
      `CREATE TABLE IF NOT EXISTS ${this.#sagas} (id ${key} PRIMARY KEY, name VARCHAR(100) NOT NULL, status VARCHAR(20) NOT NULL,
        version BIGINT NOT NULL, owner VARCHAR(64), lease_until BIGINT, state ${text} NOT NULL,
        created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)`,
      `CREATE TABLE IF NOT EXISTS ${this.#events} (saga_id ${key} NOT NULL, seq BIGINT NOT NULL, at BIGINT NOT NULL,
        kind VARCHAR(40) NOT NULL, step VARCHAR(100), detail ${text} NOT NULL, PRIMARY KEY (saga_id, seq))`,
    ];
    for (const statement of statements) {
      try {
        // Outside a transaction: MariaDB commits DDL implicitly anyway.
        await this.#tm.execute(statement);
      } catch (error) {
        // Processes starting together race on CREATE TABLE IF NOT EXISTS in PostgreSQL's catalog.
        if (!(await this.#exists())) throw error;
      }
    }
    if (dialect !== 'mysql')
      await this.#tm
        .execute(`CREATE INDEX IF NOT EXISTS ${this.#sagas}_status ON ${this.#sagas} (status, lease_until)`)
        .catch(() => undefined);
  }

  async #exists(): Promise<boolean> {
    try {
      await this.#tm.execute(`SELECT 1 FROM ${this.#events} WHERE 1 = 0`);
      return true;
    } catch {
      return false;
    }
  }

  /** Inserts a new saga owned by `owner`; false when the id is taken (the caller then resumes it). */
  async create(id: string, name: string, state: SagaState, owner: string, leaseUntil: number, now: number): Promise<boolean> {
    try {
      await this.#tm.run(async () => {
        await this.#tm.execute(
          this.#sql(
            `INSERT INTO ${this.#sagas} (id, name, status, version, owner, lease_until, state, created_at, updated_at) VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?)`,
          ),
          [id, name, state.status, owner, leaseUntil, JSON.stringify(state), now, now],
        );
        await this.#event(id, 1, now, 'started', null, { name });
      }, WRITE);
      return true;
    } catch (error) {
      if ((await this.get(id)) !== undefined) return false;
      throw error;
    }
  }

  async #event(id: string, seq: number, at: number, kind: string, step: string | null, detail: Record<string, unknown>) {
    await this.#tm.execute(this.#sql(`INSERT INTO ${this.#events} (saga_id, seq, at, kind, step, detail) VALUES (?, ?, ?, ?, ?, ?)`), [
      id,
      seq,
      at,
      kind,
      step,
      JSON.stringify(detail),
    ]);
  }

  /**
   * One transition: the new state if the row is still at `version` and owned by `owner` (null: by
   * no one), with its timeline event. Returns the new version; SagaOwnershipLostError otherwise.
   */
  async transition(
    id: string,
    version: number,
    /** undefined: whoever holds it (an operator's retry or compensate). */
    owner: string | null | undefined,
    state: SagaState,
    event: { kind: string; step?: string; detail?: Record<string, unknown> },
    lease: { owner: string | null; until: number | null },
    now: number,
  ): Promise<number> {
    const next = version + 1;
    await this.#tm.run(async () => {
      const ownerMatch = owner === undefined ? '1 = 1' : owner === null ? 'owner IS NULL' : 'owner = ?';
      const { rowCount } = await this.#tm.execute(
        this.#sql(
          `UPDATE ${this.#sagas} SET status = ?, version = ?, owner = ?, lease_until = ?, state = ?, updated_at = ? WHERE id = ? AND version = ? AND ${ownerMatch}`,
        ),
        [
          state.status,
          next,
          lease.owner,
          lease.until,
          JSON.stringify(state),
          now,
          id,
          version,
          ...(typeof owner === 'string' ? [owner] : []),
        ],
      );
      if (rowCount !== 1) throw new SagaOwnershipLostError(id);
      await this.#event(id, next, now, event.kind, event.step ?? null, event.detail ?? {});
    }, WRITE);
    return next;
  }

  /** Takes over a saga nobody holds (or whose holder's lease ran out). Returns its record, or undefined. */
  async claim(id: string, owner: string, leaseUntil: number, now: number): Promise<SagaRecord | undefined> {
    const placeholders = ACTIVE.map(() => '?').join(', ');
    const { rowCount } = await this.#tm.run(
      () =>
        this.#tm.execute(
          this.#sql(
            `UPDATE ${this.#sagas} SET owner = ?, lease_until = ? WHERE id = ? AND status IN (${placeholders}) AND (owner IS NULL OR lease_until < ?)`,
          ),
          [owner, leaseUntil, id, ...ACTIVE, now],
        ),
      WRITE,
    );
    if (rowCount !== 1) return undefined;
    const record = await this.get(id);
    return record?.owner === owner ? record : undefined;
  }

  /** Extends the lease; false when this owner no longer holds the saga. */
  async renew(id: string, owner: string, leaseUntil: number): Promise<boolean> {
    const { rowCount } = await this.#tm.run(
      () => this.#tm.execute(this.#sql(`UPDATE ${this.#sagas} SET lease_until = ? WHERE id = ? AND owner = ?`), [leaseUntil, id, owner]),
      WRITE,
    );
    return rowCount === 1;
  }

  /** Ids of active sagas nobody holds: never claimed, released, or their holder died. */
  async orphans(now: number, limit = 100): Promise<string[]> {
    const placeholders = ACTIVE.map(() => '?').join(', ');
    const { rows } = await this.#tm.execute<{ id: string }>(
      this.#sql(
        `SELECT id FROM ${this.#sagas} WHERE status IN (${placeholders}) AND (owner IS NULL OR lease_until < ?) ORDER BY updated_at LIMIT ${Math.max(1, Math.floor(limit))}`,
      ),
      [...ACTIVE, now],
    );
    return rows.map((r) => r.id);
  }

  async get(id: string): Promise<SagaRecord | undefined> {
    const { rows } = await this.#tm.execute<Row>(this.#sql(`SELECT * FROM ${this.#sagas} WHERE id = ?`), [id]);
    return rows[0] === undefined ? undefined : toRecord(rows[0]);
  }

  async list(filter: { status?: SagaStatus; name?: string; limit?: number } = {}): Promise<SagaRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.status !== undefined) {
      where.push('status = ?');
      params.push(filter.status);
    }
    if (filter.name !== undefined) {
      where.push('name = ?');
      params.push(filter.name);
    }
    const limit = Math.max(1, Math.min(10_000, Math.floor(filter.limit ?? 100)));
    const { rows } = await this.#tm.execute<Row>(
      this.#sql(
        `SELECT * FROM ${this.#sagas}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id LIMIT ${limit}`,
      ),
      params,
    );
    return rows.map(toRecord);
  }

  async timeline(id: string): Promise<SagaEvent[]> {
    const { rows } = await this.#tm.execute<{
      saga_id: string;
      seq: number | string;
      at: number | string;
      kind: string;
      step: string | null;
      detail: string;
    }>(this.#sql(`SELECT * FROM ${this.#events} WHERE saga_id = ? ORDER BY seq`), [id]);
    return rows.map((r) => ({
      sagaId: r.saga_id,
      seq: Number(r.seq),
      at: Number(r.at),
      kind: r.kind,
      step: r.step,
      detail: JSON.parse(r.detail) as Record<string, unknown>,
    }));
  }
}

function toRecord(row: Row): SagaRecord {
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    version: Number(row.version),
    owner: row.owner,
    leaseUntil: row.lease_until === null ? null : Number(row.lease_until),
    state: JSON.parse(row.state) as SagaState,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

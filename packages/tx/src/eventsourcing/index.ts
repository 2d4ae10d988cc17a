import { withPlaceholders } from '../adapters/placeholders.js';
import { checkIdentifier } from '../locking/identifiers.js';
import type { TransactionManager } from '../manager/manager.js';
import type { Outbox } from '../outbox/outbox.js';
import type { StreamEventPayload } from './projection.js';

export { type ProjectedEvent, Projection, ProjectionGapError, type StreamEventPayload } from './projection.js';

type AnyManager = TransactionManager<unknown, unknown>;

export interface NewEvent {
  readonly type: string;
  readonly data?: unknown;
}

export interface StoredEvent {
  /** Global order across streams (what projections follow). */
  readonly position: number;
  readonly stream: string;
  /** 1 for a stream's first event. */
  readonly version: number;
  readonly type: string;
  readonly data: unknown;
  readonly at: number;
}

/** Someone appended to the stream since the caller read it: reload, decide again, append again. */
export class StreamVersionConflictError extends Error {
  constructor(
    readonly stream: string,
    readonly expectedVersion: number,
  ) {
    super(`stream ${stream} is no longer at version ${expectedVersion}: another writer appended first`);
    this.name = 'StreamVersionConflictError';
  }
}

interface Row {
  position: number | string;
  stream: string;
  version: number | string;
  type: string;
  data: string;
  at: number | string;
}

const toEvent = (r: Row): StoredEvent => ({
  position: Number(r.position),
  stream: r.stream,
  version: Number(r.version),
  type: r.type,
  data: JSON.parse(r.data) as unknown,
  at: Number(r.at),
});

/**
 * An append-only event store in SQL (PostgreSQL, MariaDB, SQLite) through a TransactionManager.
 * Optimistic concurrency on the stream version is the primary key (stream, version): of two
 * writers that read version n, one appends n+1 and the other gets StreamVersionConflictError.
 * Appends join the caller's transaction, so business rows and events commit together.
 */
export class EventStore {
  readonly #tm: AnyManager;
  readonly #events: string;
  readonly #snapshots: string;
  readonly #checkpoints: string;
  readonly #outbox: Outbox | undefined;

  /**
   * With `outbox`, each appended event is also written to that outbox in the same transaction (key: the stream), so a
   * Relay feeds projections (see Projection) and brokers in order per stream, with no polling of the event table.
   */
  constructor(tm: TransactionManager<unknown, unknown>, options: { table?: string; outbox?: Outbox } = {}) {
    if (typeof tm?.run !== 'function') throw new TypeError('EventStore(tm): expected a TransactionManager');
    const table = checkIdentifier(options.table ?? 'myrmex_event', 'EventStore options.table');
    this.#tm = tm;
    this.#events = table;
    this.#snapshots = `${table}_snapshot`;
    this.#checkpoints = `${table}_checkpoint`;
    if (options.outbox !== undefined && options.outbox.manager !== (tm as unknown))
      throw new TypeError('EventStore options.outbox must use the same TransactionManager, so events and outbox rows commit together');
    this.#outbox = options.outbox;
  }

  #sql(text: string): string {
    return withPlaceholders(this.#tm.driver, text);
  }

  async ensureSchema(): Promise<void> {
    const d = this.#tm.dialect;
    const serial = d === 'postgres' ? 'BIGSERIAL' : d === 'mysql' ? 'BIGINT AUTO_INCREMENT' : 'INTEGER';
    const text = d === 'mysql' ? 'LONGTEXT' : 'TEXT';
    const key = d === 'mysql' ? 'VARCHAR(191)' : 'VARCHAR(200)';
    // position is the row's key (SQLite's rowid); (stream, version) is unique: the concurrency check.
    await this.#tm.execute(
      `CREATE TABLE IF NOT EXISTS ${this.#events} (position ${serial} PRIMARY KEY${d === 'sqlite' ? ' AUTOINCREMENT' : ''}, stream ${key} NOT NULL,
        version BIGINT NOT NULL, type VARCHAR(100) NOT NULL, data ${text} NOT NULL, at BIGINT NOT NULL, UNIQUE (stream, version))`,
    );
    await this.#tm.execute(
      `CREATE TABLE IF NOT EXISTS ${this.#snapshots} (stream ${key} PRIMARY KEY, version BIGINT NOT NULL, state ${text} NOT NULL)`,
    );
    await this.#tm.execute(`CREATE TABLE IF NOT EXISTS ${this.#checkpoints} (projection ${key} PRIMARY KEY, position BIGINT NOT NULL)`);
  }

  /** Appends after `expectedVersion` (0: the stream must be new); returns the stream's new version. */
  async append(stream: string, expectedVersion: number, events: readonly NewEvent[]): Promise<number> {
    if (typeof stream !== 'string' || stream === '' || stream.length > 200)
      throw new TypeError('append stream must be a string of 1-200 characters');
    if (!Number.isInteger(expectedVersion) || expectedVersion < 0) throw new TypeError('append expectedVersion must be an integer >= 0');
    if (!Array.isArray(events) || events.length === 0) throw new TypeError('append events must be a non-empty array');
    events.forEach((e, i) => {
      if (typeof e?.type !== 'string' || e.type === '' || e.type.length > 100)
        throw new TypeError(`append events[${i}].type must be a string of 1-100 characters`);
    });
    return this.#tm.run(async () => {
      const { rows } = await this.#tm.execute<{ v: number | string | null }>(
        this.#sql(`SELECT max(version) AS v FROM ${this.#events} WHERE stream = ?`),
        [stream],
      );
      if (Number(rows[0]?.v ?? 0) !== expectedVersion) throw new StreamVersionConflictError(stream, expectedVersion);
      let version = expectedVersion;
      const appended: StreamEventPayload[] = [];
      try {
        for (const event of events) {
          version += 1;
          const at = Date.now();
          await this.#tm.execute(this.#sql(`INSERT INTO ${this.#events} (stream, version, type, data, at) VALUES (?, ?, ?, ?, ?)`), [
            stream,
            version,
            event.type,
            JSON.stringify(event.data ?? null),
            at,
          ]);
          appended.push({ stream, version, type: event.type, data: event.data ?? null, at });
        }
      } catch (error) {
        // The unique (stream, version) key caught a writer that read the same version concurrently.
        const e = error as { code?: string; errno?: number };
        if (e.code === '23505' || e.errno === 1062 || String(e.code).startsWith('SQLITE_CONSTRAINT'))
          throw new StreamVersionConflictError(stream, expectedVersion);
        throw error;
      }
      await this.#outbox?.publish(
        appended.map((e) => ({
          id: `${this.#events}:${e.stream}:${e.version}`,
          aggregateType: this.#events,
          aggregateId: e.stream,
          type: e.type,
          payload: e,
        })),
      );
      return version;
    });
  }

  async read(stream: string, afterVersion = 0): Promise<StoredEvent[]> {
    const { rows } = await this.#tm.execute<Row>(
      this.#sql(`SELECT * FROM ${this.#events} WHERE stream = ? AND version > ? ORDER BY version`),
      [stream, afterVersion],
    );
    return rows.map(toEvent);
  }

  /** Events of every stream after `position`, in commit-safe global order. */
  async readAll(afterPosition: number, limit = 500): Promise<StoredEvent[]> {
    const { rows } = await this.#tm.execute<Row>(
      this.#sql(`SELECT * FROM ${this.#events} WHERE position > ? ORDER BY position LIMIT ${Math.max(1, Math.floor(limit))}`),
      [afterPosition],
    );
    return rows.map(toEvent);
  }

  async saveSnapshot(stream: string, version: number, state: unknown): Promise<void> {
    await this.#tm.run(async () => {
      await this.#tm.execute(this.#sql(`DELETE FROM ${this.#snapshots} WHERE stream = ? AND version <= ?`), [stream, version]);
      const { rows } = await this.#tm.execute(this.#sql(`SELECT 1 AS x FROM ${this.#snapshots} WHERE stream = ?`), [stream]);
      if (rows.length === 0)
        await this.#tm.execute(this.#sql(`INSERT INTO ${this.#snapshots} (stream, version, state) VALUES (?, ?, ?)`), [
          stream,
          version,
          JSON.stringify(state),
        ]);
    });
  }

  /** Rebuilds a stream's state: the latest snapshot, then the events after it. */
  async load<S>(stream: string, initial: S, apply: (state: S, event: StoredEvent) => S): Promise<{ state: S; version: number }> {
    const { rows } = await this.#tm.execute<{ version: number | string; state: string }>(
      this.#sql(`SELECT version, state FROM ${this.#snapshots} WHERE stream = ?`),
      [stream],
    );
    let state = rows[0] ? (JSON.parse(rows[0].state) as S) : initial;
    let version = rows[0] ? Number(rows[0].version) : 0;
    for (const event of await this.read(stream, version)) {
      state = apply(state, event);
      version = event.version;
    }
    return { state, version };
  }

  /**
   * One pass of a projection (a CQRS read model): the events after its checkpoint, each handled in
   * the transaction that moves the checkpoint, so a crash never applies one twice or skips one.
   * Returns how many it applied.
   *
   * Positions come from a sequence, so a transaction that commits late can leave a gap behind the
   * checkpoint; run projections from one process, or read with a short delay, as the README says.
   */
  async project(name: string, handle: (event: StoredEvent) => unknown, options: { batch?: number } = {}): Promise<number> {
    let applied = 0;
    for (;;) {
      const done = await this.#tm.run(async () => {
        const { rows } = await this.#tm.execute<{ position: number | string }>(
          this.#sql(`SELECT position FROM ${this.#checkpoints} WHERE projection = ?`),
          [name],
        );
        const from = Number(rows[0]?.position ?? 0);
        if (rows.length === 0)
          await this.#tm.execute(this.#sql(`INSERT INTO ${this.#checkpoints} (projection, position) VALUES (?, 0)`), [name]);
        const events = await this.readAll(from, options.batch ?? 100);
        for (const event of events) await handle(event);
        if (events.length > 0) {
          const moved = await this.#tm.execute(
            this.#sql(`UPDATE ${this.#checkpoints} SET position = ? WHERE projection = ? AND position = ?`),
            [events.at(-1)!.position, name, from],
          );
          // Another runner of the same projection got there first: undo this batch's read-model writes.
          if (moved.rowCount !== 1)
            throw new Error(`projection ${name}: its checkpoint moved under this runner; the batch was rolled back`);
        }
        return events.length;
      });
      applied += done;
      if (done === 0) return applied;
    }
  }
}

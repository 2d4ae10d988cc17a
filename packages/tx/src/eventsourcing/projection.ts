import { withPlaceholders } from '../adapters/placeholders.js';
import { checkIdentifier } from '../locking/identifiers.js';
import type { TransactionManager } from '../manager/manager.js';
import type { EventEnvelope, Publisher, PublishOutcome } from '../publishers/publisher.js';

/** What an event store puts in the outbox for each appended event (the envelope's payload). */
export interface StreamEventPayload {
  readonly stream: string;
  readonly version: number;
  readonly type: string;
  readonly data: unknown;
  readonly at: number;
}

/** An event as a projection's handler sees it. */
export type ProjectedEvent = StreamEventPayload;

/** A projection found a stream's next event missing: the relay retries it (its order per key brings the gap first). */
export class ProjectionGapError extends Error {
  constructor(
    readonly projection: string,
    readonly stream: string,
    readonly expected: number,
    readonly got: number,
  ) {
    super(`projection ${projection}: stream ${stream} is at version ${expected - 1}, got version ${got}; waiting for the events between`);
    this.name = 'ProjectionGapError';
  }
}

function asPayload(event: EventEnvelope): StreamEventPayload {
  const p = event.payload as Partial<StreamEventPayload> | null;
  if (!p || typeof p.stream !== 'string' || !Number.isInteger(p.version) || typeof p.type !== 'string')
    throw new TypeError(`projection: event ${event.id} is not an event store event (payload needs stream, version, type)`);
  return p as StreamEventPayload;
}

/**
 * A CQRS read model kept up to date from the event store's outbox: give it to a Relay as its publisher (or call
 * `apply` from a broker consumer). Each event is handled in the transaction that moves the projection's checkpoint
 * for its stream, on the read model's own database, so:
 * - a redelivery (the relay died after the handler committed, before marking the event sent) is recognised by the
 *   checkpoint and skipped: each event changes the read model once;
 * - a restart resumes from the checkpoints: nothing is applied twice or skipped;
 * - stream versions are dense, so a missing version is a gap (ProjectionGapError: retried), never a silent skip.
 * On SQLite (one writer), feed it from a relay with `sole: true`: a relay holding its batch's write transaction
 * would keep the projection's own from opening.
 */
export class Projection implements Publisher {
  readonly name: string;
  readonly #tm: TransactionManager<unknown, unknown>;
  readonly #table: string;
  readonly #handle: (event: ProjectedEvent) => unknown;

  constructor(
    tm: TransactionManager<unknown, unknown>,
    name: string,
    handle: (event: ProjectedEvent) => unknown,
    options: { table?: string } = {},
  ) {
    if (typeof tm?.run !== 'function') throw new TypeError('new Projection(tm, name, handle): tm must be a TransactionManager');
    if (typeof name !== 'string' || name === '' || name.length > 100)
      throw new TypeError('new Projection(tm, name, handle): name must be a string of 1-100 characters');
    if (typeof handle !== 'function') throw new TypeError('new Projection(tm, name, handle): handle must be a function');
    this.#tm = tm;
    this.name = name;
    this.#handle = handle;
    this.#table = checkIdentifier(options.table ?? 'myrmex_projection', 'Projection options.table');
  }

  #sql(text: string): string {
    return withPlaceholders(this.#tm.driver, text);
  }

  /** Creates the checkpoint table if it does not exist (run it outside a transaction). */
  async ensureSchema(): Promise<void> {
    const key = this.#tm.dialect === 'mysql' ? 'VARCHAR(191)' : 'VARCHAR(200)';
    await this.#tm.execute(
      `CREATE TABLE IF NOT EXISTS ${this.#table} (projection VARCHAR(100) NOT NULL, stream ${key} NOT NULL, version BIGINT NOT NULL, PRIMARY KEY (projection, stream))`,
    );
  }

  /** The version of `stream` this projection has applied (0: none). */
  async position(stream: string): Promise<number> {
    const { rows } = await this.#tm.execute<{ version: number | string }>(
      this.#sql(`SELECT version FROM ${this.#table} WHERE projection = ? AND stream = ?`),
      [this.name, stream],
    );
    return Number(rows[0]?.version ?? 0);
  }

  /** Applies one event unless already applied; `duplicate` tells which. */
  async apply(event: EventEnvelope): Promise<PublishOutcome> {
    const e = asPayload(event);
    return this.#tm.run(
      async () => {
        // The checkpoint row is locked first: a second runner of this projection waits here instead of double-applying.
        const { rows } = await this.#tm.execute<{ version: number | string }>(
          this.#sql(
            `SELECT version FROM ${this.#table} WHERE projection = ? AND stream = ?${this.#tm.dialect === 'sqlite' ? '' : ' FOR UPDATE'}`,
          ),
          [this.name, e.stream],
        );
        const at = rows[0] === undefined ? 0 : Number(rows[0].version);
        if (e.version <= at) return { duplicate: true };
        if (e.version !== at + 1) throw new ProjectionGapError(this.name, e.stream, at + 1, e.version);
        await this.#handle(e);
        if (rows[0] === undefined) {
          await this.#tm.execute(this.#sql(`INSERT INTO ${this.#table} (projection, stream, version) VALUES (?, ?, ?)`), [
            this.name,
            e.stream,
            e.version,
          ]);
        } else {
          await this.#tm.execute(this.#sql(`UPDATE ${this.#table} SET version = ? WHERE projection = ? AND stream = ?`), [
            e.version,
            this.name,
            e.stream,
          ]);
        }
        return { duplicate: false };
      },
      { propagation: 'REQUIRES_NEW', name: `projection.${this.name}`, retry: { attempts: 5 } },
    );
  }

  publish(event: EventEnvelope): Promise<PublishOutcome> {
    return this.apply(event);
  }

  async close(): Promise<void> {}
}

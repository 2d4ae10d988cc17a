import { checkIdentifier } from '../locking/identifiers.js';
import type { TransactionManager } from '../manager/manager.js';
import type { EventEnvelope } from '../publishers/publisher.js';
import { type NewEvent, toEnvelope } from './event.js';
import { type OutboxTables, outboxDdl, outboxTables } from './schema.js';

/**
 * A manager over any driver. The driver's connection types appear in both argument and result
 * positions, so a manager for pg is not assignable to one of `unknown`: accept any and keep none.
 */
// biome-ignore lint/suspicious/noExplicitAny: see above; only run/execute/dialect/driver are used.
export type AnyTransactionManager = TransactionManager<any, any>;

export interface OutboxOptions {
  /** Default `myrmex_outbox` (plus `_dead` and, on MariaDB, `_keys`). */
  readonly table?: string;
  /**
   * `relay` (default): rows stay until a relay delivers them; on PostgreSQL each commit NOTIFYs the
   * relay. `cdc`: each row is deleted in the same transaction that wrote it, so the table stays
   * empty and only the write-ahead log carries the event to a CDC capture (Debezium's outbox pattern).
   */
  readonly delivery?: 'relay' | 'cdc';
}

/** The NOTIFY channel a relay LISTENs on for this outbox table. */
export function notifyChannel(table: string): string {
  return `${table.replaceAll('.', '_')}_ready`;
}

/**
 * Writes events in the caller's transaction, so they exist exactly when the business rows do.
 * `publish` must run inside `tm.run` (it joins with MANDATORY: outside a transaction it throws).
 */
export class Outbox {
  readonly tables: OutboxTables;
  readonly delivery: 'relay' | 'cdc';
  readonly channel: string;
  readonly #tm: TransactionManager<unknown, unknown>;

  constructor(tm: AnyTransactionManager, options: OutboxOptions = {}) {
    if (tm === null || typeof tm !== 'object' || typeof tm.run !== 'function')
      throw new TypeError('new Outbox(tm): tm must be a TransactionManager');
    const table = checkIdentifier(options.table ?? 'myrmex_outbox', 'OutboxOptions.table');
    const delivery = options.delivery ?? 'relay';
    if (delivery !== 'relay' && delivery !== 'cdc')
      throw new TypeError(`OutboxOptions.delivery must be "relay" or "cdc", got ${JSON.stringify(delivery)}`);
    if (delivery === 'cdc' && tm.dialect !== 'postgres')
      throw new TypeError('OutboxOptions.delivery "cdc" needs PostgreSQL (logical replication)');
    this.#tm = tm;
    this.tables = outboxTables(table);
    this.delivery = delivery;
    this.channel = notifyChannel(table);
  }

  get manager(): TransactionManager<unknown, unknown> {
    return this.#tm;
  }

  /** Creates the tables and indexes if they do not exist. Run it outside a transaction (DDL commits on MariaDB). */
  async install(): Promise<void> {
    for (const statement of outboxDdl(this.#tm.dialect, this.tables)) await this.#tm.execute(statement);
    if (this.delivery === 'cdc') {
      // The capture decodes deleted rows' inserts only, but a full image keeps deletes self-describing too.
      await this.#tm.execute(`ALTER TABLE ${this.tables.outbox} REPLICA IDENTITY FULL`);
    }
  }

  /** Writes the events in the current transaction and returns them as they will be published. */
  async publish(events: NewEvent | readonly NewEvent[]): Promise<EventEnvelope[]> {
    const list = Array.isArray(events) ? (events as readonly NewEvent[]) : [events as NewEvent];
    if (list.length === 0) return [];
    const now = new Date();
    const envelopes = list.map((event, index) => toEnvelope(event, index, now));
    return this.#tm.run(
      async () => {
        await this.#lockKeys(envelopes);
        await this.#insert(envelopes, now.getTime());
        if (this.delivery === 'cdc') {
          const p = this.#placeholders(envelopes.length, 1);
          await this.#tm.execute(
            `DELETE FROM ${this.tables.outbox} WHERE id IN (${p})`,
            envelopes.map((e) => e.id),
          );
        } else if (this.#tm.dialect === 'postgres') {
          // Delivered at commit, and once per transaction however many events it wrote.
          await this.#tm.execute('SELECT pg_notify($1, $2)', [this.channel, '']);
        }
        return envelopes;
      },
      { propagation: 'MANDATORY', name: 'outbox.publish' },
    );
  }

  /**
   * Writers of one key queue behind each other until commit, so a key's sequence numbers follow
   * commit order and the relay never sees a later event of a key before an earlier one commits.
   * Keys are taken in one order so writers of several keys cannot deadlock on them.
   */
  async #lockKeys(envelopes: readonly EventEnvelope[]): Promise<void> {
    const keys = [...new Set(envelopes.map((e) => e.aggregateId))].sort();
    if (this.#tm.dialect === 'postgres') {
      // One round trip for all keys, taken in hash order (the subquery's order feeds the locking).
      await this.#tm.execute(
        'SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT hashtextextended($1 || k, 0) AS h FROM unnest($2::text[]) AS k ORDER BY 1) AS ordered',
        [`${this.tables.outbox}:`, keys],
      );
    } else if (this.#tm.dialect === 'mysql') {
      const values = keys.map(() => '(?)').join(', ');
      await this.#tm.execute(`INSERT INTO ${this.tables.keys} (k) VALUES ${values} ON DUPLICATE KEY UPDATE k = k`, keys);
    }
    // SQLite: one writer at a time already.
  }

  async #insert(envelopes: readonly EventEnvelope[], now: number): Promise<void> {
    const perRow = 8;
    const values = envelopes.map((_, i) => `(${this.#placeholders(perRow, i * perRow + 1)})`).join(', ');
    const params = envelopes.flatMap((e) => [
      e.id,
      e.aggregateType,
      e.aggregateId,
      e.type,
      e.topic,
      JSON.stringify(e.payload),
      JSON.stringify(e.headers),
      now,
    ]);
    await this.#tm.execute(
      `INSERT INTO ${this.tables.outbox} (id, aggregate_type, aggregate_id, type, topic, payload, headers, occurred_at) VALUES ${values}`,
      params,
    );
  }

  #placeholders(count: number, first: number): string {
    return Array.from({ length: count }, (_, i) => this.#tm.driver.placeholder(first + i)).join(', ');
  }
}

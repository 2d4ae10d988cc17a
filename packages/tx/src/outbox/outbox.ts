import { checkIdentifier } from '../locking/identifiers.js';
import type { TransactionManager } from '../manager/manager.js';
import type { EventEnvelope } from '../publishers/publisher.js';
import type { NewEvent } from './event.js';
import { type OutboxTables, outboxDdl, outboxTables } from './schema.js';
import { outboxStatements, prepareEvents } from './statements.js';

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
    const envelopes = prepareEvents(events);
    if (envelopes.length === 0) return [];
    const statements = outboxStatements(this.#tm.dialect, (n) => this.#tm.driver.placeholder(n), this, envelopes);
    return this.#tm.run(
      async () => {
        for (const { sql, params } of statements) await this.#tm.execute(sql, params);
        return envelopes;
      },
      { propagation: 'MANDATORY', name: 'outbox.publish' },
    );
  }
}

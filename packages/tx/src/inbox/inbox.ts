import { checkIdentifier } from '../locking/identifiers.js';
import type { TransactionManager } from '../manager/manager.js';
import type { AnyTransactionManager } from '../outbox/outbox.js';

export interface InboxOptions {
  /** Default `myrmex_inbox`. */
  readonly table?: string;
  /** Names this consumer: several consumers may share one table, each sees every event once. Default `default`. */
  readonly consumer?: string;
}

export type Handled<T> = { readonly duplicate: false; readonly value: T } | { readonly duplicate: true };

const DDL = {
  postgres: (t: string) =>
    `CREATE TABLE IF NOT EXISTS ${t} (consumer varchar(255) NOT NULL, event_id varchar(255) NOT NULL, received_at bigint NOT NULL, PRIMARY KEY (consumer, event_id))`,
  mysql: (t: string) =>
    `CREATE TABLE IF NOT EXISTS ${t} (consumer varchar(255) NOT NULL, event_id varchar(255) NOT NULL, received_at bigint NOT NULL, PRIMARY KEY (consumer, event_id))`,
  sqlite: (t: string) =>
    `CREATE TABLE IF NOT EXISTS ${t} (consumer TEXT NOT NULL, event_id TEXT NOT NULL, received_at INTEGER NOT NULL, PRIMARY KEY (consumer, event_id))`,
};

// Insert-or-nothing, so a duplicate leaves the caller's transaction usable (a unique violation would abort it on PostgreSQL).
const CLAIM = {
  postgres: (t: string) => `INSERT INTO ${t} (consumer, event_id, received_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
  mysql: (t: string) => `INSERT IGNORE INTO ${t} (consumer, event_id, received_at) VALUES (?, ?, ?)`,
  sqlite: (t: string) => `INSERT OR IGNORE INTO ${t} (consumer, event_id, received_at) VALUES (?, ?, ?)`,
};

/**
 * Exactly-once effects for an at-least-once consumer: `handle(id, fn)` records the event id and runs
 * `fn` in one transaction (the consumer's own database), so a redelivered event finds its id and is
 * skipped, and a crash before commit leaves neither the id nor the effect. Two consumers handed the
 * same event at once: the second waits on the first's row and then sees a duplicate.
 */
export class Inbox {
  readonly table: string;
  readonly consumer: string;
  readonly #tm: TransactionManager<unknown, unknown>;

  constructor(tm: AnyTransactionManager, options: InboxOptions = {}) {
    if (tm === null || typeof tm !== 'object' || typeof tm.run !== 'function')
      throw new TypeError('new Inbox(tm): tm must be a TransactionManager');
    this.table = checkIdentifier(options.table ?? 'myrmex_inbox', 'InboxOptions.table');
    const consumer = options.consumer ?? 'default';
    if (typeof consumer !== 'string' || consumer.length === 0 || consumer.length > 255) {
      throw new TypeError(`InboxOptions.consumer must be a non-empty string of at most 255 characters, got ${JSON.stringify(consumer)}`);
    }
    this.consumer = consumer;
    this.#tm = tm;
  }

  async install(): Promise<void> {
    await this.#tm.execute(DDL[this.#tm.dialect](this.table));
  }

  /** Runs `fn` once per event id, in a transaction (joining the caller's, if any) that also records the id. */
  handle<T>(eventId: string, fn: () => T | Promise<T>): Promise<Handled<T>> {
    if (typeof eventId !== 'string' || eventId.length === 0 || eventId.length > 255) {
      return Promise.reject(
        new TypeError(
          `inbox.handle(eventId, fn): eventId must be a non-empty string of at most 255 characters, got ${JSON.stringify(eventId)}`,
        ),
      );
    }
    if (typeof fn !== 'function') return Promise.reject(new TypeError('inbox.handle(eventId, fn): fn must be a function'));
    return this.#tm.run(
      async (): Promise<Handled<T>> => {
        const { rowCount } = await this.#tm.execute(CLAIM[this.#tm.dialect](this.table), [this.consumer, eventId, Date.now()]);
        if (rowCount === 0) return { duplicate: true };
        return { duplicate: false, value: await fn() };
      },
      { name: 'inbox.handle' },
    );
  }

  /** Forgets ids received before `before` (ms since the epoch); redeliveries older than that are no longer caught. */
  async prune(before: number): Promise<number> {
    const p = (position: number) => this.#tm.driver.placeholder(position);
    const { rowCount } = await this.#tm.execute(`DELETE FROM ${this.table} WHERE consumer = ${p(1)} AND received_at < ${p(2)}`, [
      this.consumer,
      before,
    ]);
    return rowCount;
  }
}

import type { Dialect } from '../core/retry.js';
import type { TransactionManager } from '../manager/manager.js';
import type { OutboxRow } from '../outbox/event.js';
import type { OutboxTables } from '../outbox/schema.js';

/**
 * The relay's statements. A batch is claimed in two steps inside one transaction:
 * 1. heads: the lowest unsent event of each key, locked with SKIP LOCKED, so each key is owned by
 *    at most one relay at a time (another relay sees that head locked and skips the whole key,
 *    because its other events are not the lowest);
 * 2. the owned keys' next unsent events, in sequence order.
 * The rows stay locked until the batch's transaction commits the outcome, so a relay that dies
 * mid-batch releases them for the others (at-least-once).
 */
export class Claims {
  readonly #tm: TransactionManager<unknown, unknown>;
  readonly #t: OutboxTables;
  readonly #dialect: Dialect;

  readonly #locking: boolean;

  /** `locking: false` for a sole relay, which reads its batches in a read-only transaction and locks nothing. */
  constructor(tm: TransactionManager<unknown, unknown>, tables: OutboxTables, locking = true) {
    this.#tm = tm;
    this.#t = tables;
    this.#dialect = tm.dialect;
    this.#locking = locking;
  }

  #p(position: number): string {
    return this.#tm.driver.placeholder(position);
  }

  #list(count: number, first: number): string {
    return Array.from({ length: count }, (_, i) => this.#p(first + i)).join(', ');
  }

  get #lock(): { skip: string; wait: string } {
    return this.#dialect === 'sqlite' || !this.#locking ? { skip: '', wait: '' } : { skip: ' FOR UPDATE SKIP LOCKED', wait: ' FOR UPDATE' };
  }

  async heads(now: number, keys: number): Promise<OutboxRow[]> {
    const t = this.#t.outbox;
    const heads = (columns: string, limit: number, lock: string) =>
      `SELECT ${columns} FROM ${t} o
       WHERE o.published_at IS NULL AND o.next_attempt_at <= ${this.#p(1)}
         AND o.seq = (SELECT MIN(i.seq) FROM ${t} i WHERE i.aggregate_id = o.aggregate_id AND i.published_at IS NULL)
       ORDER BY o.seq LIMIT ${Math.trunc(limit)}${lock}`;
    if (this.#dialect === 'mysql' && this.#locking) {
      // MariaDB carries FOR UPDATE into the subquery: it waits on (and keeps) locks of rows other relays hold, which
      // made relays block and deadlock each other, even after publishing. So: find the heads with a plain read (no
      // locks; READ COMMITTED sees committed rows only, and a key's earlier rows never come back once delivered),
      // then lock those rows alone by primary key, skipping the ones another relay owns. Extra candidates make up
      // for the skipped ones.
      const { rows: candidates } = await this.#tm.execute<{ seq: number | string }>(heads('o.seq', keys * 4, ''), [now]);
      if (candidates.length === 0) return [];
      const { rows } = await this.#tm.execute<OutboxRow>(
        `SELECT * FROM ${t} WHERE seq IN (${this.#list(candidates.length, 1)}) AND published_at IS NULL
         ORDER BY seq LIMIT ${Math.trunc(keys)}${this.#lock.skip}`,
        candidates.map((c) => c.seq),
      );
      return rows;
    }
    const { rows } = await this.#tm.execute<OutboxRow>(heads('o.*', keys, this.#lock.skip), [now]);
    return rows;
  }

  /** Whether an unsent event is due, whoever holds it (a plain read that takes no lock). */
  async anyDue(now: number): Promise<boolean> {
    const { rows } = await this.#tm.execute(
      `SELECT seq FROM ${this.#t.outbox} WHERE published_at IS NULL AND next_attempt_at <= ${this.#p(1)} LIMIT 1`,
      [now],
    );
    return rows.length > 0;
  }

  async batch(keys: readonly string[], limit: number): Promise<OutboxRow[]> {
    if (this.#dialect === 'mysql' && this.#locking) {
      // InnoDB locks every row an index scan passes; through the key index it passes only the owned keys' rows,
      // never the heads other relays hold (which a scan in sequence order would wait on, and deadlock).
      const index = `${this.#t.outbox.replaceAll('.', '_')}_key`;
      const rows: OutboxRow[] = [];
      for (const key of keys) {
        const { rows: own } = await this.#tm.execute<OutboxRow>(
          `SELECT * FROM ${this.#t.outbox} FORCE INDEX (${index}) WHERE aggregate_id = ? AND published_at IS NULL ORDER BY seq LIMIT ${Math.trunc(limit)} FOR UPDATE`,
          [key],
        );
        rows.push(...own);
      }
      return rows.sort((a, b) => Number(a.seq) - Number(b.seq)).slice(0, limit);
    }
    const { rows } = await this.#tm.execute<OutboxRow>(
      `SELECT * FROM ${this.#t.outbox} WHERE aggregate_id IN (${this.#list(keys.length, 1)}) AND published_at IS NULL
       ORDER BY seq LIMIT ${Math.trunc(limit)}${this.#lock.wait}`,
      keys,
    );
    return rows;
  }

  async markPublished(seqs: readonly (number | string)[], now: number): Promise<void> {
    if (seqs.length === 0) return;
    await this.#tm.execute(
      `UPDATE ${this.#t.outbox} SET published_at = ${this.#p(1)}, last_error = NULL WHERE seq IN (${this.#list(seqs.length, 2)})`,
      [now, ...seqs],
    );
  }

  async markFailed(seq: number | string, nextAttemptAt: number, error: string): Promise<void> {
    await this.#tm.execute(
      `UPDATE ${this.#t.outbox} SET attempts = attempts + 1, next_attempt_at = ${this.#p(1)}, last_error = ${this.#p(2)} WHERE seq = ${this.#p(3)}`,
      [nextAttemptAt, error.slice(0, 2000), seq],
    );
  }

  /** Parks a poison event: it leaves the outbox (so its key moves on) and keeps its last error. */
  async moveToDead(seq: number | string, now: number, error: string): Promise<void> {
    const cols =
      'seq, id, aggregate_type, aggregate_id, type, topic, payload, headers, occurred_at, attempts, next_attempt_at, last_error, published_at';
    const select = cols.replace('attempts, next_attempt_at, last_error', `attempts + 1, next_attempt_at, ${this.#p(1)}`);
    await this.#tm.execute(
      `INSERT INTO ${this.#t.dead} (${cols}, failed_at) SELECT ${select}, ${this.#p(2)} FROM ${this.#t.outbox} WHERE seq = ${this.#p(3)}`,
      [error.slice(0, 2000), now, seq],
    );
    await this.#tm.execute(`DELETE FROM ${this.#t.outbox} WHERE seq = ${this.#p(1)}`, [seq]);
  }

  /** Deletes up to `limit` rows delivered before `before`; returns how many. */
  async deleteDelivered(before: number, limit: number): Promise<number> {
    const t = this.#t.outbox;
    const sql =
      this.#dialect === 'postgres'
        ? `DELETE FROM ${t} WHERE seq IN (SELECT seq FROM ${t} WHERE published_at < $1 LIMIT ${limit} FOR UPDATE SKIP LOCKED)`
        : this.#dialect === 'mysql'
          ? `DELETE FROM ${t} WHERE published_at < ? LIMIT ${limit}`
          : `DELETE FROM ${t} WHERE seq IN (SELECT seq FROM ${t} WHERE published_at < ? LIMIT ${limit})`;
    const { rowCount } = await this.#tm.execute(sql, [before]);
    return rowCount;
  }

  async deadLetters(): Promise<(OutboxRow & { last_error: string; failed_at: number })[]> {
    const { rows } = await this.#tm.execute<OutboxRow & { last_error: string; failed_at: number }>(
      `SELECT * FROM ${this.#t.dead} ORDER BY seq`,
    );
    return rows;
  }

  /** Puts a parked event back in the outbox, to be delivered again (after its key's current events). */
  async requeue(id: string): Promise<boolean> {
    const cols = 'id, aggregate_type, aggregate_id, type, topic, payload, headers, occurred_at';
    const { rowCount } = await this.#tm.execute(
      `INSERT INTO ${this.#t.outbox} (${cols}) SELECT ${cols} FROM ${this.#t.dead} WHERE id = ${this.#p(1)}`,
      [id],
    );
    await this.#tm.execute(`DELETE FROM ${this.#t.dead} WHERE id = ${this.#p(1)}`, [id]);
    return rowCount > 0;
  }
}

import type { Dialect } from '../core/retry.js';
import type { EventEnvelope } from '../publishers/publisher.js';
import { type NewEvent, toEnvelope } from './event.js';
import type { OutboxTables } from './schema.js';

/** One parameterised statement, with the placeholders of the dialect's driver. */
export interface OutboxStatement {
  readonly sql: string;
  readonly params: readonly unknown[];
}

/** The outbox a set of statements writes to (an `Outbox` is one). */
export interface OutboxTarget {
  readonly tables: OutboxTables;
  readonly channel: string;
  readonly delivery: 'relay' | 'cdc';
}

/** Validates events and fills their defaults (ids, topics, time); errors name the event's index and field. */
export function prepareEvents(events: NewEvent | readonly NewEvent[], now = new Date()): EventEnvelope[] {
  const list = Array.isArray(events) ? (events as readonly NewEvent[]) : [events as NewEvent];
  return list.map((event, index) => toEnvelope(event, index, now));
}

/**
 * The statements that write `envelopes` to an outbox, to run in order inside the caller's transaction, by whatever
 * runs it: `Outbox.publish` through the transaction manager, or another library's transaction (Kysely's, in the
 * orchestrator) on the same database, so the events commit exactly with that transaction's rows.
 *
 * 1. Writers of one key queue behind each other until commit (PostgreSQL advisory locks in hash order, MariaDB a
 *    row per key), so a key's sequence numbers follow commit order and a relay never sees a later event of a key
 *    before an earlier one commits. Keys are taken in one order so writers of several keys cannot deadlock. SQLite
 *    has one writer at a time already.
 * 2. One multi-row insert.
 * 3. CDC delivery deletes the rows at once (only the WAL carries them); relay delivery on PostgreSQL NOTIFYs at commit,
 *    once per transaction however many events it wrote.
 */
export function outboxStatements(
  dialect: Dialect,
  placeholder: (position: number) => string,
  target: OutboxTarget,
  envelopes: readonly EventEnvelope[],
): OutboxStatement[] {
  if (envelopes.length === 0) return [];
  const list = (count: number, first: number) => Array.from({ length: count }, (_, i) => placeholder(first + i)).join(', ');
  const { tables } = target;
  const statements: OutboxStatement[] = [];
  const keys = [...new Set(envelopes.map((e) => e.aggregateId))].sort();
  if (dialect === 'postgres') {
    statements.push({
      sql: 'SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT hashtextextended($1 || k, 0) AS h FROM unnest($2::text[]) AS k ORDER BY 1) AS ordered',
      params: [`${tables.outbox}:`, keys],
    });
  } else if (dialect === 'mysql') {
    statements.push({
      sql: `INSERT INTO ${tables.keys} (k) VALUES ${keys.map(() => '(?)').join(', ')} ON DUPLICATE KEY UPDATE k = k`,
      params: keys,
    });
  }
  const perRow = 8;
  const now = Date.parse(envelopes[0]!.occurredAt);
  statements.push({
    sql: `INSERT INTO ${tables.outbox} (id, aggregate_type, aggregate_id, type, topic, payload, headers, occurred_at) VALUES ${envelopes
      .map((_, i) => `(${list(perRow, i * perRow + 1)})`)
      .join(', ')}`,
    params: envelopes.flatMap((e) => [
      e.id,
      e.aggregateType,
      e.aggregateId,
      e.type,
      e.topic,
      JSON.stringify(e.payload),
      JSON.stringify(e.headers),
      now,
    ]),
  });
  if (target.delivery === 'cdc') {
    statements.push({ sql: `DELETE FROM ${tables.outbox} WHERE id IN (${list(envelopes.length, 1)})`, params: envelopes.map((e) => e.id) });
  } else if (dialect === 'postgres') {
    statements.push({ sql: 'SELECT pg_notify($1, $2)', params: [target.channel, ''] });
  }
  return statements;
}

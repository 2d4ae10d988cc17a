import { type OutboxRow, rowToEnvelope } from '../outbox/event.js';
import type { EventEnvelope } from '../publishers/publisher.js';

/** The parts of a pgoutput message the capture reads (pg-logical-replication's decoded shape). */
export interface Relation {
  readonly schema: string;
  readonly name: string;
  readonly keyColumns: readonly string[];
}
export type Change =
  | { readonly tag: 'insert'; readonly relation: Relation; readonly new: Record<string, unknown> }
  | {
      readonly tag: 'update';
      readonly relation: Relation;
      readonly old: Record<string, unknown> | null;
      readonly key: Record<string, unknown> | null;
      readonly new: Record<string, unknown>;
    }
  | {
      readonly tag: 'delete';
      readonly relation: Relation;
      readonly old: Record<string, unknown> | null;
      readonly key: Record<string, unknown> | null;
    };

export interface CommittedTransaction {
  readonly commitLsn: string;
  /** Microseconds since the Unix epoch. */
  readonly commitTime: bigint;
  readonly xid: number;
}

export interface MappingOptions {
  /** Names this capture in event ids and `source`. */
  readonly slot: string;
  /** `schema.table` of outbox tables: their inserts are the events themselves (the outbox-via-CDC pattern). */
  readonly outboxTables: ReadonlySet<string>;
  /** Topic of a table's change events. Default `schema.table`. */
  readonly topic: (table: string) => string;
  /**
   * Primary-key columns per `schema.table`: the ordering key. Under REPLICA IDENTITY FULL pgoutput
   * marks every column as a key column, so the relation alone cannot say.
   */
  readonly primaryKeys?: ReadonlyMap<string, readonly string[]>;
}

function keyOf(table: string, relation: Relation, row: Record<string, unknown> | null, primaryKeys: MappingOptions['primaryKeys']): string {
  if (!row) return '';
  const primary = primaryKeys?.get(table);
  const columns = primary && primary.length > 0 ? primary : relation.keyColumns.length > 0 ? relation.keyColumns : Object.keys(row);
  const values = columns.map((c) => row[c]);
  return values.length === 1 ? String(values[0]) : JSON.stringify(values);
}

function jsonSafe(row: Record<string, unknown> | null): Record<string, unknown> | null {
  if (!row) return null;
  return Object.fromEntries(
    Object.entries(row).map(([k, v]) => [
      k,
      typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v,
    ]),
  );
}

/**
 * One committed transaction's changes as events, in commit order. Ids are `<slot>:<commit LSN>:<n>`,
 * so a transaction decoded again after a crash yields the same ids (brokers and inboxes drop the
 * repeats). Outbox rows keep the id they were written with, the one a relay would have published.
 */
export function changesToEvents(tx: CommittedTransaction, changes: readonly Change[], options: MappingOptions): EventEnvelope[] {
  const occurredAt = new Date(Number(tx.commitTime / 1000n)).toISOString();
  const events: EventEnvelope[] = [];
  changes.forEach((change, index) => {
    const table = `${change.relation.schema}.${change.relation.name}`;
    if (options.outboxTables.has(table)) {
      if (change.tag === 'insert') events.push(rowToEnvelope(change.new as unknown as OutboxRow));
      return; // the deletes that keep the outbox table empty carry nothing
    }
    const before = change.tag === 'insert' ? null : jsonSafe(change.old ?? change.key);
    const after = change.tag === 'delete' ? null : jsonSafe(change.new);
    events.push({
      id: `${options.slot}:${tx.commitLsn}:${index}`,
      source: `cdc:${options.slot}`,
      aggregateType: table,
      aggregateId: keyOf(table, change.relation, after ?? before, options.primaryKeys),
      type: change.tag,
      topic: options.topic(table),
      payload: { before, after },
      headers: { lsn: tx.commitLsn, xid: String(tx.xid) },
      occurredAt,
    });
  });
  return events;
}

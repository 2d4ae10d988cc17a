import { randomUUID } from 'node:crypto';
import type { EventEnvelope } from '../publishers/publisher.js';

/** What `outbox.publish` takes. */
export interface NewEvent {
  readonly aggregateType: string;
  /** The ordering key. */
  readonly aggregateId: string | number;
  readonly type: string;
  /** Anything JSON can carry. */
  readonly payload: unknown;
  /** Default: the aggregate type. */
  readonly topic?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Default: a random UUID. Give your own to make a retried business transaction publish the same id. */
  readonly id?: string;
}

const MAX_TEXT = 255;

function text(value: unknown, field: string, index: number): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_TEXT) {
    throw new TypeError(
      `outbox.publish: events[${index}].${field} must be a non-empty string of at most ${MAX_TEXT} characters, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** Validates one event and fills its defaults; errors name the event's index and field. */
export function toEnvelope(event: NewEvent, index: number, now: Date): EventEnvelope {
  if (event === null || typeof event !== 'object') throw new TypeError(`outbox.publish: events[${index}] must be an object`);
  const aggregateId =
    typeof event.aggregateId === 'number' && Number.isFinite(event.aggregateId) ? String(event.aggregateId) : event.aggregateId;
  if (event.payload === undefined) throw new TypeError(`outbox.publish: events[${index}].payload is missing (use null for none)`);
  try {
    JSON.stringify(event.payload);
  } catch (error) {
    throw new TypeError(`outbox.publish: events[${index}].payload cannot be stored as JSON: ${(error as Error).message}`);
  }
  const headers = event.headers ?? {};
  if (headers === null || typeof headers !== 'object' || Object.values(headers).some((v) => typeof v !== 'string')) {
    throw new TypeError(`outbox.publish: events[${index}].headers must map names to strings`);
  }
  const aggregateType = text(event.aggregateType, 'aggregateType', index);
  return {
    id: event.id === undefined ? randomUUID() : text(event.id, 'id', index),
    source: 'outbox',
    aggregateType,
    aggregateId: text(aggregateId, 'aggregateId', index),
    type: text(event.type, 'type', index),
    topic: event.topic === undefined ? aggregateType : text(event.topic, 'topic', index),
    payload: event.payload,
    headers: { ...headers },
    occurredAt: now.toISOString(),
  };
}

/** An outbox row as the relay reads it. */
export interface OutboxRow {
  readonly seq: number | string;
  readonly id: string;
  readonly aggregate_type: string;
  readonly aggregate_id: string;
  readonly type: string;
  readonly topic: string;
  readonly payload: string;
  readonly headers: string;
  readonly occurred_at: number | string;
  readonly attempts: number;
}

export function rowToEnvelope(row: OutboxRow): EventEnvelope {
  return {
    id: row.id,
    source: 'outbox',
    aggregateType: row.aggregate_type,
    aggregateId: row.aggregate_id,
    type: row.type,
    topic: row.topic,
    payload: JSON.parse(row.payload),
    headers: JSON.parse(row.headers),
    occurredAt: new Date(Number(row.occurred_at)).toISOString(),
  };
}

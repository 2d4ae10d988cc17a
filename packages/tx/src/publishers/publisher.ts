/**
 * The one shape every event takes on its way out, whether the outbox or a CDC capture produced it,
 * and the one seam every broker sits behind. A consumer decodes the same JSON from any broker.
 */
export interface EventEnvelope {
  /** Unique per event; brokers deduplicate on it (JetStream's Nats-Msg-Id) and inboxes do too. */
  readonly id: string;
  /** `outbox`, or `cdc:<slot>` for a captured change. */
  readonly source: string;
  readonly aggregateType: string;
  /** The ordering key: events of one aggregate are delivered in the order they committed. */
  readonly aggregateId: string;
  readonly type: string;
  /** Where it goes: a NATS subject, an AMQP routing key, a Redis stream, an MQTT topic (after each publisher's mapping). */
  readonly topic: string;
  readonly payload: unknown;
  readonly headers: Readonly<Record<string, string>>;
  /** ISO-8601, when the event was written (outbox) or committed (CDC). */
  readonly occurredAt: string;
}

export interface PublishOutcome {
  /** The broker said it already held this id (JetStream dedup, the Redis dedup key). */
  readonly duplicate: boolean;
}

export interface Publisher {
  /** For logs and metrics: `nats`, `amqp`, `redis`, `mqtt`. */
  readonly name: string;
  /** Resolves once the broker confirmed it holds the event (ack, confirm, reply, PUBACK); rejects otherwise. */
  publish(event: EventEnvelope): Promise<PublishOutcome>;
  /** Releases what the publisher opened itself; a client passed in by the caller stays open. */
  close(): Promise<void>;
}

export function encodeEvent(event: EventEnvelope): string {
  return JSON.stringify(event);
}

const FIELDS = ['id', 'source', 'aggregateType', 'aggregateId', 'type', 'topic', 'occurredAt'] as const;

/** Parses what a publisher sent; a body that is not an envelope is an error naming the missing field. */
export function decodeEvent(body: string | Uint8Array): EventEnvelope {
  const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new TypeError(`decodeEvent: the body is not JSON (${(error as Error).message})`);
  }
  if (value === null || typeof value !== 'object') throw new TypeError('decodeEvent: the body is not a JSON object');
  const record = value as Record<string, unknown>;
  for (const field of FIELDS) {
    if (typeof record[field] !== 'string') throw new TypeError(`decodeEvent: field "${field}" must be a string`);
  }
  return { headers: {}, ...record } as EventEnvelope;
}

/** What a publisher's mapping from event to destination looks like. */
export type Destination = (event: EventEnvelope) => string;

import type { JetStreamClient, NatsConnection } from 'nats';
import { headers as natsHeaders } from 'nats';
import { type Destination, type EventEnvelope, encodeEvent, type Publisher, type PublishOutcome } from './publisher.js';

export interface NatsPublisherOptions {
  /** A connection the caller owns (closed by the caller, not by `close()`). */
  readonly connection: NatsConnection;
  /** Subject per event; default `<prefix><topic>`. The subject must belong to a JetStream stream. */
  readonly subject?: Destination;
  readonly prefix?: string;
  /** How long to wait for the stream's PubAck. Default 5 s. */
  readonly timeoutMs?: number;
}

/**
 * JetStream with publish acks. The event id travels as `Nats-Msg-Id`, so a re-publish after a crash
 * (the relay died between the ack and marking the row) is recognised by the stream and stored once,
 * as long as it comes within the stream's `duplicate_window` (2 minutes by default: raise it to
 * cover the longest relay outage you expect).
 */
export function natsPublisher(options: NatsPublisherOptions): Publisher {
  if (!options || typeof options.connection?.jetstream !== 'function') {
    throw new TypeError('natsPublisher(options): options.connection must be a NatsConnection from nats.connect()');
  }
  const prefix = options.prefix ?? '';
  const subject: Destination = options.subject ?? ((event) => `${prefix}${event.topic}`);
  const timeout = options.timeoutMs ?? 5000;
  const js: JetStreamClient = options.connection.jetstream({ timeout });
  return {
    name: 'nats',
    async publish(event: EventEnvelope): Promise<PublishOutcome> {
      const h = natsHeaders();
      h.set('Myrmex-Event-Type', event.type);
      h.set('Myrmex-Aggregate-Id', event.aggregateId);
      const ack = await js.publish(subject(event), encodeEvent(event), { msgID: event.id, headers: h, timeout });
      return { duplicate: ack.duplicate };
    },
    async close() {},
  };
}

import type { ConfirmChannel } from 'amqplib';
import { type Destination, type EventEnvelope, encodeEvent, type Publisher, type PublishOutcome } from './publisher.js';

export interface AmqpPublisherOptions {
  /** A confirm channel (`connection.createConfirmChannel()`) the caller owns. */
  readonly channel: ConfirmChannel;
  /** The exchange events go to (declare it beforehand). `''` is the default exchange: the routing key is the queue. */
  readonly exchange: string;
  /** Routing key per event; default the event's topic. */
  readonly routingKey?: Destination;
}

/**
 * RabbitMQ with publisher confirms: `publish` resolves when the broker acked the message (persisted
 * for durable queues) and rejects on a nack or a channel that closed before confirming. Messages are
 * persistent and carry the event id as `messageId`; RabbitMQ does not deduplicate, so consumers use
 * the inbox.
 */
export function amqpPublisher(options: AmqpPublisherOptions): Publisher {
  if (!options || typeof options.channel?.waitForConfirms !== 'function') {
    throw new TypeError('amqpPublisher(options): options.channel must be a ConfirmChannel (connection.createConfirmChannel())');
  }
  if (typeof options.exchange !== 'string') throw new TypeError('amqpPublisher(options): options.exchange must be a string');
  const { channel, exchange } = options;
  const routingKey: Destination = options.routingKey ?? ((event) => event.topic);
  let closed: Error | undefined;
  const pending = new Set<(error: Error) => void>();
  const fail = (error: Error) => {
    closed = error;
    for (const reject of pending) reject(error);
    pending.clear();
  };
  channel.on('close', () => fail(new Error('amqpPublisher: the channel closed before the broker confirmed')));
  channel.on('error', (error: Error) => fail(error));
  let drained: Promise<void> | undefined;
  return {
    name: 'amqp',
    async publish(event: EventEnvelope): Promise<PublishOutcome> {
      if (closed) throw closed;
      if (drained) await drained;
      await new Promise<void>((resolve, reject) => {
        pending.add(reject);
        const written = channel.publish(
          exchange,
          routingKey(event),
          Buffer.from(encodeEvent(event)),
          {
            persistent: true,
            messageId: event.id,
            type: event.type,
            contentType: 'application/json',
            headers: { 'myrmex-aggregate-id': event.aggregateId },
          },
          (error: unknown) => {
            pending.delete(reject);
            if (error) reject(error instanceof Error ? error : new Error(`amqpPublisher: the broker nacked event ${event.id}`));
            else resolve();
          },
        );
        // The socket's buffer is full: later publishes wait for it to drain, this one is already queued.
        if (!written && !drained) {
          drained = new Promise<void>((done) =>
            channel.once('drain', () => {
              drained = undefined;
              done();
            }),
          );
        }
      });
      return { duplicate: false };
    },
    async close() {},
  };
}

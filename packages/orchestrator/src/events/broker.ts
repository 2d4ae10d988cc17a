import type { Publisher } from '@myrmex/tx/outbox';
import { DEFAULT_LIFECYCLE_TOPIC } from './lifecycle.js';

/** A publisher on a broker `--events` named, with the connection it owns. */
export interface EventsBroker {
  readonly publisher: Publisher;
  /** Where the events go: a JetStream subject, an AMQP exchange, a Redis stream key or an MQTT topic. */
  readonly topic: string;
  /** The URL without its password, for logs. */
  readonly description: string;
  close(): Promise<void>;
}

const SCHEMES = ['nats', 'amqp', 'amqps', 'redis', 'rediss', 'mqtt', 'mqtts'] as const;
type Scheme = (typeof SCHEMES)[number];

/** Reads `--events`: the broker URL, and `?topic=` (default `myrmex.events`); errors name the option. */
export function parseEventsUrl(value: string, field = '--events'): { scheme: Scheme; url: URL; topic: string } {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(
      `${field}: '${value}' is not a URL; write e.g. nats://127.0.0.1:4222, amqp://guest:guest@127.0.0.1:5672, redis://127.0.0.1:6379 or mqtt://127.0.0.1:1883`,
    );
  }
  const scheme = url.protocol.slice(0, -1) as Scheme;
  if (!SCHEMES.includes(scheme))
    throw new TypeError(`${field}: '${scheme}:' is not a broker this queen publishes to; use nats://, amqp://, redis:// or mqtt://`);
  if (url.hostname === '') throw new TypeError(`${field}: '${value}' names no host`);
  const topic = url.searchParams.get('topic') ?? DEFAULT_LIFECYCLE_TOPIC;
  if (!/^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/.test(topic))
    throw new TypeError(`${field}: topic '${topic}' must be letters, digits, '.', '_', ':' or '-'`);
  url.searchParams.delete('topic');
  return { scheme, url, topic };
}

function redact(url: URL): string {
  const copy = new URL(url);
  if (copy.password) copy.password = '***';
  return copy.toString();
}

/**
 * Connects to the broker and makes sure the destination exists: a JetStream stream on the topic's subject (named
 * after it, with message-id deduplication), a durable AMQP topic exchange named after the topic (bind your queues
 * to it), a Redis stream or an MQTT topic (dots become slashes). Drivers load only for the broker asked for.
 */
export async function connectEventsBroker(value: string): Promise<EventsBroker> {
  const { scheme, url, topic } = parseEventsUrl(value);
  const description = redact(url);
  if (scheme === 'nats') {
    const [{ connect }, { natsPublisher }] = await Promise.all([import('nats'), import('@myrmex/tx/publishers/nats')]);
    const connection = await connect({
      servers: url.host,
      ...(url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : {}),
    });
    const jsm = await connection.jetstreamManager();
    const stream = topic.replaceAll(/[.:-]/g, '_').toUpperCase();
    await jsm.streams.info(stream).catch(() => jsm.streams.add({ name: stream, subjects: [topic] }));
    return { publisher: natsPublisher({ connection }), topic, description, close: () => connection.close() };
  }
  if (scheme === 'amqp' || scheme === 'amqps') {
    const [amqplib, { amqpPublisher }] = await Promise.all([import('amqplib'), import('@myrmex/tx/publishers/amqp')]);
    const connection = await amqplib.connect(url.toString());
    const channel = await connection.createConfirmChannel();
    await channel.assertExchange(topic, 'topic', { durable: true });
    return {
      publisher: amqpPublisher({ channel, exchange: topic }),
      topic,
      description,
      close: async () => {
        await connection.close().catch(() => undefined);
      },
    };
  }
  if (scheme === 'redis' || scheme === 'rediss') {
    const [{ Redis }, { redisPublisher }] = await Promise.all([import('ioredis'), import('@myrmex/tx/publishers/redis')]);
    const client = new Redis(url.toString(), { lazyConnect: true });
    // Failures reach the relay through each publish's rejection (it retries); the event would only be noise.
    client.on('error', () => undefined);
    await client.connect().catch((error: unknown) => {
      client.disconnect();
      throw error;
    });
    return {
      publisher: redisPublisher({ client }),
      topic,
      description,
      close: async () => {
        client.disconnect();
      },
    };
  }
  const [{ connectAsync }, { mqttPublisher }] = await Promise.all([import('mqtt'), import('@myrmex/tx/publishers/mqtt')]);
  const client = await connectAsync(url.toString(), { protocolVersion: 5 });
  return { publisher: mqttPublisher({ client }), topic, description, close: () => client.endAsync() };
}

import { amqp, mqtt, nats, redis } from '@myrmex/test-utils';
import type { ConfirmChannel } from 'amqplib';
import { encodeEvent, type Publisher } from '../../src/publishers/publisher.js';
import { streamEvents } from './support.js';

/**
 * One real broker for the outbox and CDC suites: a publisher on a fresh prefix, a way to read back
 * what the broker holds (in the broker's order), and clean-up. `received` is what a consumer got.
 */
export interface BrokerUnderTest {
  readonly publisher: Publisher;
  /** The topic events should carry so they land where `received` reads. */
  readonly topic: string;
  /** Everything a consumer has received so far, in arrival order (JSON bodies). */
  received(): Promise<string[]>;
  /** Starts a live consumer that hands each body over as it arrives (for latency). */
  listen(onBody: (body: string) => void): Promise<void>;
  /** Whether the broker itself refuses a re-published id (JetStream, the Redis script). */
  readonly dedups: boolean;
  dispose(): Promise<void>;
}

export interface BrokerKind {
  readonly name: 'nats' | 'amqp' | 'redis' | 'mqtt';
  readonly describe: (name: string, body: () => void) => void;
  open(): Promise<BrokerUnderTest>;
}

const natsGate = await nats();
const amqpGate = await amqp();
const redisGate = await redis();
const mqttGate = await mqtt();

export const brokers: readonly BrokerKind[] = [
  {
    name: 'nats',
    describe: natsGate.describe,
    async open() {
      const { connect } = await import('nats');
      const { natsPublisher } = await import('../../src/publishers/nats.js');
      const fresh = await natsGate.freshPrefix();
      const connection = await connect({ servers: new URL(fresh.url).host });
      const stream = fresh.prefix.replaceAll('.', '_').toUpperCase();
      const jsm = await connection.jetstreamManager();
      await jsm.streams.add({ name: stream, subjects: [`${fresh.prefix}.>`] });
      const stops: (() => void)[] = [];
      return {
        publisher: natsPublisher({ connection, prefix: `${fresh.prefix}.` }),
        topic: 'orders',
        dedups: true,
        async listen(onBody) {
          const messages = await (await connection.jetstream().consumers.get(stream)).consume();
          stops.push(() => messages.stop());
          void (async () => {
            for await (const m of messages) onBody(m.string());
          })();
        },
        received: async () => (await streamEvents(jsm, stream)).map((e) => encodeEvent(e)),
        async dispose() {
          for (const stop of stops) stop();
          await connection.close();
          await fresh.dispose();
        },
      };
    },
  },
  {
    name: 'amqp',
    describe: amqpGate.describe,
    async open() {
      const amqplib = await import('amqplib');
      const { amqpPublisher } = await import('../../src/publishers/amqp.js');
      const fresh = await amqpGate.freshPrefix();
      const connection = await amqplib.connect(fresh.url);
      const channel: ConfirmChannel = await connection.createConfirmChannel();
      const queue = fresh.track('orders');
      await channel.assertQueue(queue, { durable: true });
      const consumer = await connection.createChannel();
      const got: string[] = [];
      const listeners: ((body: string) => void)[] = [];
      await consumer.consume(queue, (message) => {
        if (!message) return;
        const body = message.content.toString();
        got.push(body);
        for (const listener of listeners) listener(body);
        consumer.ack(message);
      });
      return {
        publisher: amqpPublisher({ channel, exchange: '' }),
        topic: queue,
        dedups: false,
        listen: async (onBody) => {
          listeners.push(onBody);
        },
        received: async () => [...got],
        async dispose() {
          await connection.close().catch(() => undefined);
          await fresh.dispose();
        },
      };
    },
  },
  {
    name: 'redis',
    describe: redisGate.describe,
    async open() {
      const { Redis } = await import('ioredis');
      const { redisPublisher } = await import('../../src/publishers/redis.js');
      const fresh = await redisGate.freshPrefix();
      const client = new Redis(fresh.url);
      const reader = client.duplicate();
      let reading = true;
      return {
        publisher: redisPublisher({ client, prefix: fresh.prefix }),
        topic: 'orders',
        dedups: true,
        async listen(onBody) {
          void (async () => {
            let last = '$';
            while (reading) {
              const reply = await reader.xread('COUNT', 1000, 'BLOCK', 200, 'STREAMS', `${fresh.prefix}orders`, last).catch(() => null);
              for (const [, entries] of reply ?? []) {
                for (const [id, fields] of entries) {
                  last = id;
                  onBody(fields[fields.indexOf('event') + 1]!);
                }
              }
            }
          })();
        },
        async received() {
          const entries = await client.xrange(`${fresh.prefix}orders`, '-', '+');
          return entries.map(([, fields]) => fields[fields.indexOf('event') + 1]!);
        },
        async dispose() {
          reading = false;
          reader.disconnect();
          client.disconnect();
          await fresh.dispose();
        },
      };
    },
  },
  {
    name: 'mqtt',
    describe: mqttGate.describe,
    async open() {
      const { connectAsync } = await import('mqtt');
      const { mqttPublisher } = await import('../../src/publishers/mqtt.js');
      const fresh = await mqttGate.freshPrefix();
      const client = await connectAsync(fresh.url, { protocolVersion: 5 });
      const subscriber = await connectAsync(fresh.url, { protocolVersion: 5 });
      const got: string[] = [];
      const listeners: ((body: string) => void)[] = [];
      subscriber.on('message', (_topic, payload) => {
        const body = payload.toString();
        got.push(body);
        for (const listener of listeners) listener(body);
      });
      await subscriber.subscribeAsync(`${fresh.prefix}#`, { qos: 1 });
      return {
        publisher: mqttPublisher({ client, prefix: fresh.prefix }),
        topic: 'orders',
        dedups: false,
        listen: async (onBody) => {
          listeners.push(onBody);
        },
        received: async () => [...got],
        async dispose() {
          await client.endAsync();
          await subscriber.endAsync();
          await fresh.dispose();
        },
      };
    },
  },
];

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { amqp, mqtt, nats, postgres, redis } from '@myrmex/test-utils';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lifecycleWriter, parseEventsUrl } from '../../src/events/index.js';
import type { LifecyclePayload } from '../../src/events/lifecycle.js';
import { createLogger, type RunningServer, SqliteStore, serve } from '../../src/index.js';
import { enterTraceparent } from '../../src/observability/index.js';

const quiet = () => createLogger({ write: () => {} });
const DEFINITION =
  'job_type: relayed\ntasks:\n  - task_type: one\n    script: ["true"]\n    on_completed: two\n  - task_type: two\n    script: ["true"]\n';

interface Consumer {
  /** The event URL for `--events` (with the test's own topic). */
  readonly events: string;
  /** Every event body received so far, in arrival order. */
  received(): Promise<string[]>;
  dispose(): Promise<void>;
}

/** Polls until `check` holds (tests wait for conditions, not for time). */
async function until(check: () => Promise<boolean> | boolean, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const natsGate = await nats();
const amqpGate = await amqp();
const redisGate = await redis();
const mqttGate = await mqtt();
const pgGate = await postgres();

const brokers: { name: string; describe: (name: string, body: () => void) => void; open(): Promise<Consumer> }[] = [
  {
    name: 'NATS JetStream',
    describe: natsGate.describe,
    async open() {
      const fresh = await natsGate.freshPrefix();
      const topic = `${fresh.prefix}.events`;
      const { connect } = await import('nats');
      const connection = await connect({ servers: new URL(fresh.url).host });
      const jsm = await connection.jetstreamManager();
      const stream = topic.replaceAll(/[.:-]/g, '_').toUpperCase();
      return {
        events: `${fresh.url}?topic=${topic}`,
        async received() {
          const info = await jsm.streams.info(stream).catch(() => undefined);
          if (!info || info.state.messages === 0) return [];
          const bodies: string[] = [];
          for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++)
            bodies.push((await jsm.streams.getMessage(stream, { seq })).string());
          return bodies;
        },
        async dispose() {
          await connection.close();
          await fresh.dispose();
        },
      };
    },
  },
  {
    name: 'RabbitMQ',
    describe: amqpGate.describe,
    async open() {
      const fresh = await amqpGate.freshPrefix();
      const exchange = fresh.track(`${fresh.prefix}.events`);
      const queue = fresh.track(`${fresh.prefix}.consumer`);
      const amqplib = await import('amqplib');
      const connection = await amqplib.connect(fresh.url);
      const channel = await connection.createChannel();
      await channel.assertExchange(exchange, 'topic', { durable: true });
      await channel.assertQueue(queue, { durable: true });
      await channel.bindQueue(queue, exchange, '#');
      const got: string[] = [];
      await channel.consume(queue, (message) => {
        if (!message) return;
        got.push(message.content.toString());
        channel.ack(message);
      });
      return {
        events: `${fresh.url}?topic=${exchange}`,
        received: async () => [...got],
        async dispose() {
          await connection.close().catch(() => undefined);
          await fresh.dispose();
        },
      };
    },
  },
  {
    name: 'Redis Streams',
    describe: redisGate.describe,
    async open() {
      const fresh = await redisGate.freshPrefix();
      const topic = `${fresh.prefix}events`;
      const { Redis } = await import('ioredis');
      const client = new Redis(fresh.url);
      return {
        events: `${fresh.url}?topic=${topic}`,
        async received() {
          const entries = await client.xrange(topic, '-', '+');
          return entries.map(([, fields]) => fields[fields.indexOf('event') + 1]!);
        },
        async dispose() {
          client.disconnect();
          await fresh.dispose();
        },
      };
    },
  },
  {
    name: 'MQTT',
    describe: mqttGate.describe,
    async open() {
      const fresh = await mqttGate.freshPrefix();
      const topic = `${fresh.prefix.replaceAll('/', '.')}events`;
      const { connectAsync } = await import('mqtt');
      const subscriber = await connectAsync(fresh.url, { protocolVersion: 5 });
      const got: string[] = [];
      subscriber.on('message', (_topic, payload) => got.push(payload.toString()));
      await subscriber.subscribeAsync(topic.replaceAll('.', '/'), { qos: 1 });
      return {
        events: `${fresh.url}?topic=${topic}`,
        received: async () => [...got],
        async dispose() {
          await subscriber.endAsync();
          await fresh.dispose();
        },
      };
    },
  },
];

/** Runs jobs on a queen publishing to `consumer`, then checks each transition arrived once, in order per job. */
async function transitionsArriveOnceInOrder(db: string, consumer: Consumer, servers: RunningServer[]): Promise<void> {
  const server = await serve({ db, port: 0, handleSignals: false, logger: quiet(), capacity: 2, events: consumer.events });
  servers.push(server);
  await server.queen.applyDefinition(DEFINITION);
  // The first job comes with a submitter's traceparent (as an HTTP request's would): its events carry the trace id.
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const traced = await Promise.resolve().then(() => {
    enterTraceparent(`00-${traceId}-00f067aa0ba902b7-01`);
    return server.queen.submit({ jobType: 'relayed' });
  });
  const jobs = [traced, ...(await Promise.all(Array.from({ length: 2 }, () => server.queen.submit({ jobType: 'relayed' }))))];
  const timelines = new Map<string, { seq: number; to: string; taskType?: string }[]>();
  await until(async () => {
    for (const job of jobs) {
      const seen = await server.queen.getJob(job.id);
      if (seen?.state !== 'COMPLETED') return false;
      timelines.set(job.id, [...seen.timeline]);
    }
    return true;
  }, 'the jobs to complete');
  const expected = [...timelines.values()].reduce((n, t) => n + t.length, 0);
  const payloads = async () =>
    (await consumer.received()).map(
      (body) => JSON.parse(body) as { id: string; type: string; aggregateId: string; payload: LifecyclePayload },
    );
  await until(async () => (await payloads()).length >= expected, `${expected} lifecycle events`);
  const events = await payloads();
  expect(events).toHaveLength(expected);
  expect(new Set(events.map((e) => e.id)).size).toBe(expected);
  for (const [jobId, timeline] of timelines) {
    const own = events.filter((e) => e.aggregateId === jobId).map((e) => e.payload);
    expect(own.map((p) => [p.seq, p.state, p.taskType])).toEqual(timeline.map((t) => [t.seq, t.to, t.taskType]));
    expect(new Set(own.map((p) => p.jobType))).toEqual(new Set(['relayed']));
  }
  expect(
    events.find((e) => e.aggregateId === traced.id && e.payload.from === undefined && e.payload.taskType === undefined)?.payload.traceId,
  ).toBe(traceId);
  // Job-level transitions carry the job's state; task-level ones name their task.
  expect(events.some((e) => e.type === 'job.transition' && e.payload.state === 'COMPLETED')).toBe(true);
  expect(events.some((e) => e.type === 'task.transition' && e.payload.taskType === 'two')).toBe(true);
}

describe('queen lifecycle events through the outbox', () => {
  let dir: string;
  const servers: RunningServer[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'myrmex-events-'));
  });
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads --events URLs and names what is wrong', () => {
    expect(parseEventsUrl('nats://127.0.0.1:4222')).toMatchObject({ scheme: 'nats', topic: 'myrmex.events' });
    expect(parseEventsUrl('redis://h:6379?topic=jobs.all').topic).toBe('jobs.all');
    expect(() => parseEventsUrl('kafka://h:9092')).toThrow(/--events: 'kafka:' is not a broker this queen publishes to/);
    expect(() => parseEventsUrl('not a url')).toThrow(/--events: 'not a url' is not a URL/);
    expect(() => parseEventsUrl('mqtt://h?topic=a/b')).toThrow(/topic 'a\/b' must be/);
  });

  it('refuses a :memory: store and an unreachable broker before serving', async () => {
    await expect(
      serve({ db: ':memory:', port: 0, handleSignals: false, logger: quiet(), events: 'nats://127.0.0.1:4222' }),
    ).rejects.toThrow(/--events needs a store other processes can open/);
    await expect(
      serve({ db: join(dir, 'q.db'), port: 0, handleSignals: false, logger: quiet(), events: 'redis://127.0.0.1:1' }),
    ).rejects.toThrow(/--events: cannot publish lifecycle events/);
  });

  it('writes the event in the transition’s transaction: a failing write leaves no transition, and every transition has its event', async () => {
    const path = join(dir, 'atomic.db');
    const store = SqliteStore.open({ path });
    const job = (id: string) => ({
      id,
      jobType: 't',
      version: 1,
      priority: 5,
      params: {},
      submittedAt: new Date(1),
      scheduledAt: new Date(1),
      taskTypes: ['x'],
    });
    const writer = lifecycleWriter('sqlite', { topic: 'myrmex.events' });
    store.transitionsWriter = async () => {
      throw new Error('the outbox refused');
    };
    await expect(store.createJob(job('lost'))).rejects.toThrow('the outbox refused');
    store.transitionsWriter = writer;
    await store.createJob(job('kept'));
    await store.close();
    const db = new BetterSqlite3(path);
    expect(db.prepare('SELECT id FROM jobs').all()).toEqual([{ id: 'kept' }]);
    const rows = db.prepare('SELECT aggregate_id, type, payload FROM myrmex_events').all() as {
      aggregate_id: string;
      type: string;
      payload: string;
    }[];
    expect(rows.map((r) => [r.aggregate_id, r.type, JSON.parse(r.payload).state, JSON.parse(r.payload).jobType])).toEqual([
      ['kept', 'job.transition', 'PENDING', 't'],
    ]);
    db.close();
  });

  for (const broker of brokers) {
    broker.describe(`to ${broker.name}`, () => {
      it('every job and task transition arrives once, in order per job (SQLite store)', async () => {
        const consumer = await broker.open();
        try {
          await transitionsArriveOnceInOrder(join(dir, 'queen.db'), consumer, servers);
        } finally {
          for (const server of servers.splice(0)) await server.close();
          await consumer.dispose();
        }
      });
    });
  }

  pgGate.describe('on PostgreSQL', () => {
    natsGate.describe('to NATS JetStream', () => {
      it('every transition arrives once, in order per job (PostgreSQL store, LISTEN/NOTIFY relay)', async () => {
        const db = await pgGate.freshDatabase();
        const consumer = await brokers[0]!.open();
        try {
          await transitionsArriveOnceInOrder(db.url, consumer, servers);
        } finally {
          for (const server of servers.splice(0)) await server.close();
          await consumer.dispose();
          await db.dispose();
        }
      });
    });
  });
});

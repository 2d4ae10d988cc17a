import { type Gate, openGate } from './gate.js';
import { isCi, serviceSettings, uniqueName, withDatabase } from './settings.js';

/** Something a test made on a shared service, removed again by `dispose`. */
export interface Disposable {
  dispose(): Promise<void>;
}

export interface FreshDatabase extends Disposable {
  readonly name: string;
  /** Connection URL of the fresh database. */
  readonly url: string;
}

export interface FreshPrefix extends Disposable {
  readonly url: string;
  /** Every key, subject or queue the test makes starts with this. */
  readonly prefix: string;
}

export interface PostgresGate extends Gate {
  freshDatabase(): Promise<FreshDatabase>;
}
export interface MysqlGate extends Gate {
  freshDatabase(): Promise<FreshDatabase>;
}
export interface RedisGate extends Gate {
  /** Keys under the prefix are deleted on dispose. */
  freshPrefix(): Promise<FreshPrefix>;
}
export interface NatsGate extends Gate {
  /** JetStream streams whose name starts with the prefix (upper-cased, dots as underscores) are deleted on dispose. */
  freshPrefix(): Promise<FreshPrefix>;
}
export interface MqttGate extends Gate {
  /** Topics the test uses start with the prefix; the broker keeps nothing of them once the test's clients are gone. */
  freshPrefix(): Promise<FreshPrefix>;
}
export interface AmqpGate extends Gate {
  /** Queues and exchanges whose names start with the prefix and are passed to `track` are deleted on dispose. */
  freshPrefix(): Promise<FreshPrefix & { track(name: string): string }>;
}

const gates = new Map<string, Promise<Gate>>();

function memoise<T extends Gate>(key: string, make: () => Promise<T>): Promise<T> {
  let gate = gates.get(key);
  if (!gate) {
    gate = make();
    gates.set(key, gate);
  }
  return gate as Promise<T>;
}

export function postgres(): Promise<PostgresGate> {
  const url = serviceSettings().postgres;
  return memoise('postgres', async () => {
    const { default: pg } = await import('pg');
    const admin = async <T>(work: (client: InstanceType<typeof pg.Client>) => Promise<T>): Promise<T> => {
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
      client.on('error', () => undefined);
      await client.connect();
      try {
        return await work(client);
      } finally {
        await client.end();
      }
    };
    const gate = await openGate({
      service: 'PostgreSQL',
      url,
      ci: isCi(),
      probe: () => admin((client) => client.query('select 1')).then(() => undefined),
    });
    return {
      ...gate,
      async freshDatabase() {
        const name = uniqueName('myrmex_t').toLowerCase();
        await admin((client) => client.query(`create database "${name}"`));
        return {
          name,
          url: withDatabase(url, name),
          dispose: () => admin((client) => client.query(`drop database if exists "${name}" with (force)`)).then(() => undefined),
        };
      },
    };
  });
}

export function mysql(): Promise<MysqlGate> {
  const url = serviceSettings().mysql;
  return memoise('mysql', async () => {
    const mysql2 = await import('mysql2/promise');
    const admin = async <T>(work: (connection: Awaited<ReturnType<typeof mysql2.createConnection>>) => Promise<T>) => {
      const connection = await mysql2.createConnection({ uri: url, connectTimeout: 3000 });
      try {
        return await work(connection);
      } finally {
        await connection.end();
      }
    };
    const gate = await openGate({
      service: 'MariaDB',
      url,
      ci: isCi(),
      probe: () => admin((connection) => connection.query('select 1')).then(() => undefined),
    });
    return {
      ...gate,
      async freshDatabase() {
        const name = uniqueName('myrmex_t');
        await admin((connection) => connection.query(`create database \`${name}\``));
        return {
          name,
          url: withDatabase(url, name),
          dispose: () => admin((connection) => connection.query(`drop database if exists \`${name}\``)).then(() => undefined),
        };
      },
    };
  });
}

export function redis(): Promise<RedisGate> {
  const url = serviceSettings().redis;
  return memoise('redis', async () => {
    const { Redis } = await import('ioredis');
    const connect = () => new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null, connectTimeout: 3000 });
    const gate = await openGate({
      service: 'Redis',
      url,
      ci: isCi(),
      probe: async () => {
        const client = connect();
        client.on('error', () => undefined);
        try {
          await client.connect();
          await client.ping();
        } finally {
          client.disconnect();
        }
      },
    });
    return {
      ...gate,
      async freshPrefix() {
        const prefix = `${uniqueName('myrmex:t')}:`;
        return {
          url,
          prefix,
          async dispose() {
            const client = connect();
            try {
              await client.connect();
              let cursor = '0';
              do {
                const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
                if (keys.length > 0) await client.del(...keys);
                cursor = next;
              } while (cursor !== '0');
            } finally {
              client.disconnect();
            }
          },
        };
      },
    };
  });
}

export function nats(): Promise<NatsGate> {
  const url = serviceSettings().nats;
  return memoise('nats', async () => {
    const { connect } = await import('nats');
    const servers = new URL(url).host;
    const gate = await openGate({
      service: 'NATS',
      url,
      ci: isCi(),
      probe: async () => {
        const connection = await connect({ servers, timeout: 3000, reconnect: false });
        await connection.flush();
        await connection.close();
      },
    });
    return {
      ...gate,
      async freshPrefix() {
        const prefix = uniqueName('myrmex.t').replaceAll('_', '.');
        const streamPrefix = prefix.replaceAll('.', '_').toUpperCase();
        return {
          url,
          prefix,
          async dispose() {
            const connection = await connect({ servers, timeout: 3000, reconnect: false });
            try {
              const manager = await connection.jetstreamManager();
              for await (const stream of manager.streams.list()) {
                if (stream.config.name.startsWith(streamPrefix)) await manager.streams.delete(stream.config.name);
              }
            } finally {
              await connection.close();
            }
          },
        };
      },
    };
  });
}

export function amqp(): Promise<AmqpGate> {
  const url = serviceSettings().amqp;
  return memoise('amqp', async () => {
    const amqplib = await import('amqplib');
    const gate = await openGate({
      service: 'RabbitMQ',
      url,
      ci: isCi(),
      probe: async () => {
        const connection = await amqplib.connect(url, { timeout: 3000 });
        await connection.close();
      },
    });
    return {
      ...gate,
      async freshPrefix() {
        const prefix = uniqueName('myrmex.t');
        const tracked = new Set<string>();
        return {
          url,
          prefix,
          track(name: string) {
            const full = name.startsWith(prefix) ? name : `${prefix}.${name}`;
            tracked.add(full);
            return full;
          },
          async dispose() {
            if (tracked.size === 0) return;
            const connection = await amqplib.connect(url, { timeout: 3000 });
            try {
              for (const name of tracked) {
                const channel = await connection.createChannel();
                channel.on('error', () => undefined);
                await channel.deleteQueue(name).catch(() => undefined);
                await channel.deleteExchange(name).catch(() => undefined);
                await channel.close().catch(() => undefined);
              }
            } finally {
              await connection.close();
            }
          },
        };
      },
    };
  });
}

export function mqtt(): Promise<MqttGate> {
  const url = serviceSettings().mqtt;
  return memoise('mqtt', async () => {
    const { connectAsync } = await import('mqtt');
    const gate = await openGate({
      service: 'Mosquitto (MQTT)',
      url,
      ci: isCi(),
      probe: async () => {
        const client = await connectAsync(url, { connectTimeout: 3000, reconnectPeriod: 0 });
        await client.endAsync();
      },
    });
    return {
      ...gate,
      async freshPrefix() {
        const prefix = `${uniqueName('myrmex/t')}/`;
        // Non-persistent QoS 1 publishes leave nothing on the broker once their subscribers are gone.
        return { url, prefix, dispose: async () => undefined };
      },
    };
  });
}

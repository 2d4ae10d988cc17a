/** Where each service lives. Environment variables win; defaults are the services every Myrmex machine runs. */
export interface ServiceSettings {
  readonly postgres: string;
  readonly mysql: string;
  readonly redis: string;
  readonly nats: string;
  readonly amqp: string;
  readonly mqtt: string;
}

export function serviceSettings(env: NodeJS.ProcessEnv = process.env): ServiceSettings {
  return {
    postgres: env.MYRMEX_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    mysql: env.MYRMEX_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test',
    redis: env.MYRMEX_REDIS_URL ?? 'redis://127.0.0.1:6379',
    nats: env.MYRMEX_NATS_URL ?? 'nats://127.0.0.1:4222',
    amqp: env.MYRMEX_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
    mqtt: env.MYRMEX_MQTT_URL ?? 'mqtt://127.0.0.1:1883',
  };
}

/** Under CI a missing service is a failure, never a silent skip. */
export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const ci = env.CI?.toLowerCase();
  return ci === 'true' || ci === '1';
}

/** Replaces the database name in a connection URL, keeping credentials, host and parameters. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** A name no other test run will pick: safe as a database name, key prefix or subject token. */
export function uniqueName(prefix: string): string {
  const random = Math.random().toString(36).slice(2, 10);
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${random}`;
}

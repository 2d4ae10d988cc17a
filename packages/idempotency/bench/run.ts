// Added latency and throughput of @myrmex/idempotency per store, against the same handler without
// middleware and against published peers, in one run. Sizes: --duration-ms, --connections,
// --max-requests, --rounds (or IDEMPOTENCY_BENCH_DURATION_MS / _CONNECTIONS / _MAX_REQUESTS / _ROUNDS).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type IdempotencyStore, MemoryStore } from '@myrmex/idempotency';
import { PostgresStore } from '@myrmex/idempotency/postgres';
import { RedisStore } from '@myrmex/idempotency/redis';
import { SqliteStore } from '@myrmex/idempotency/sqlite';
import { postgres, redis } from '@myrmex/test-utils';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import pg from 'pg';
import { type LoadResult, load } from './load.js';
import { expressServer, fastifyServer, type Running } from './servers.js';

const { values } = parseArgs({
  options: {
    'duration-ms': { type: 'string' },
    connections: { type: 'string' },
    'max-requests': { type: 'string' },
    rounds: { type: 'string' },
  },
});
const setting = (flag: string, env: string, fallback: number) => {
  const value = Number(values[flag as keyof typeof values] ?? process.env[env] ?? fallback);
  if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`--${flag} must be a positive integer`);
  return value;
};
const durationMs = setting('duration-ms', 'IDEMPOTENCY_BENCH_DURATION_MS', 2000);
const rounds = setting('rounds', 'IDEMPOTENCY_BENCH_ROUNDS', 3);
const connections = setting('connections', 'IDEMPOTENCY_BENCH_CONNECTIONS', 16);
const maxRequests = setting('max-requests', 'IDEMPOTENCY_BENCH_MAX_REQUESTS', 200_000);

interface Case {
  readonly framework: string;
  readonly variant: string;
  readonly path: 'new key' | 'replay';
  readonly start: () => Promise<Running>;
}

interface Row {
  readonly framework: string;
  readonly variant: string;
  readonly path: Case['path'];
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly perSecond: number;
  readonly cpuUsPerRequest: number;
  readonly requests: number;
}

const BODY = JSON.stringify({ amount: 1250, currency: 'EUR' });
const run = `${process.pid}-${Date.now()}`;

async function measure(item: Case, round: number): Promise<LoadResult> {
  const server = await item.start();
  const tag = `${item.variant.replace(/[^A-Za-z0-9]+/g, '-')}-${round}`;
  const headers =
    item.path === 'new key'
      ? (n: number) => ({ 'idempotency-key': `${run}-${tag}-${n}` })
      : () => ({ 'idempotency-key': `${run}-${tag}-fixed` });
  try {
    // Warm up the JIT and connections; for the replay path this records the one execution.
    await load({
      url: server.url,
      body: BODY,
      connections,
      durationMs: 300,
      maxRequests: 2000,
      headers: item.path === 'replay' ? headers : (n) => headers(-n - 1),
    });
    const result = await load({ url: server.url, body: BODY, connections, durationMs, maxRequests, headers });
    // Every request must have been answered as intended, or the figures measure something else.
    const wrong = Object.keys(result.statuses).filter((status) => status !== '201');
    if (wrong.length > 0 || result.errors > 0) {
      throw new Error(
        `${item.framework} ${item.variant} ${item.path}: unexpected answers ${JSON.stringify(result.statuses)}, ${result.errors} errors`,
      );
    }
    console.error(
      `round ${round} ${item.framework} ${item.variant} ${item.path}: p50 ${result.p50Ms.toFixed(3)} ms, p99 ${result.p99Ms.toFixed(3)} ms, ${result.perSecond.toFixed(0)} req/s`,
    );
    return result;
  } finally {
    await server.close();
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const stores: { name: string; open: () => Promise<{ store: IdempotencyStore; close: () => Promise<void> }> }[] = [
  { name: 'memory', open: async () => ({ store: new MemoryStore(), close: async () => undefined }) },
  {
    name: 'sqlite',
    open: async () => {
      const dir = join(tmpdir(), `myrmex-idem-bench-${run}`);
      mkdirSync(dir, { recursive: true });
      const database = new Database(join(dir, 'keys.sqlite'));
      database.pragma('journal_mode = WAL');
      database.pragma('synchronous = NORMAL');
      return {
        store: new SqliteStore({ database }),
        close: async () => {
          database.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
];

const pgGate = await postgres();
if (pgGate.availability.available) {
  stores.push({
    name: 'postgres',
    open: async () => {
      const db = await pgGate.freshDatabase();
      const pool = new pg.Pool({ connectionString: db.url, max: connections });
      const store = new PostgresStore({ pool });
      await store.ensureSchema();
      return { store, close: () => pool.end().then(() => db.dispose()) };
    },
  });
}
const redisGate = await redis();
if (redisGate.availability.available) {
  stores.push({
    name: 'redis',
    open: async () => {
      const prefix = await redisGate.freshPrefix();
      const client = new Redis(prefix.url);
      return { store: new RedisStore({ client, prefix: prefix.prefix }), close: () => client.quit().then(() => prefix.dispose()) };
    },
  });
}

const opened = await Promise.all(stores.map(async ({ name, open }) => ({ name, ...(await open()) })));
const memory = new MemoryStore();
const cases: Case[] = [
  { framework: 'fastify', variant: 'no middleware', path: 'new key', start: () => fastifyServer(undefined) },
  ...opened.flatMap(({ name, store }) =>
    (['new key', 'replay'] as const).map((path) => ({
      framework: 'fastify',
      variant: `@myrmex/idempotency ${name}`,
      path,
      start: () => fastifyServer(store),
    })),
  ),
  { framework: 'express', variant: 'no middleware', path: 'new key', start: () => expressServer('none') },
  ...(['new key', 'replay'] as const).flatMap((path) => [
    { framework: 'express', variant: '@myrmex/idempotency memory', path, start: () => expressServer('myrmex', memory) },
    { framework: 'express', variant: 'express-idempotency memory', path, start: () => expressServer('express-idempotency') },
    { framework: 'express', variant: '@node-idempotency/core memory', path, start: () => expressServer('@node-idempotency/core') },
  ]),
];
// Rounds interleave the cases, so a burst of load from elsewhere on the machine hits them all
// alike; each figure is the median over the rounds.
const samples = new Map<Case, LoadResult[]>(cases.map((item) => [item, []]));
for (let round = 1; round <= rounds; round++) {
  for (const item of cases) samples.get(item)!.push(await measure(item, round));
}
await Promise.all(opened.map((store) => store.close()));
const rows: Row[] = cases.map((item) => {
  const results = samples.get(item)!;
  return {
    framework: item.framework,
    variant: item.variant,
    path: item.path,
    p50Ms: median(results.map((result) => result.p50Ms)),
    p99Ms: median(results.map((result) => result.p99Ms)),
    perSecond: median(results.map((result) => result.perSecond)),
    cpuUsPerRequest: median(results.map((result) => result.cpuUsPerRequest)),
    requests: results.reduce((sum, result) => sum + result.requests, 0),
  };
});

const baseline = (framework: string) => rows.find((row) => row.framework === framework && row.variant === 'no middleware')!;
const lines = [
  `| framework | variant | path | p50 ms | p99 ms | req/s | added p50 ms | added p99 ms | throughput vs none | CPU us/req | added CPU us/req |`,
  `| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`,
  ...rows.map((result) => {
    const { framework, variant, path } = result;
    const base = baseline(framework);
    const added = (value: number, of: number, digits = 3) => (variant === 'no middleware' ? '' : (value - of).toFixed(digits));
    return `| ${framework} | ${variant} | ${path} | ${result.p50Ms.toFixed(3)} | ${result.p99Ms.toFixed(3)} | ${result.perSecond.toFixed(0)} | ${added(result.p50Ms, base.p50Ms)} | ${added(result.p99Ms, base.p99Ms)} | ${(result.perSecond / base.perSecond).toFixed(2)}x | ${result.cpuUsPerRequest.toFixed(0)} | ${added(result.cpuUsPerRequest, base.cpuUsPerRequest, 0)} |`;
  }),
];
mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
writeFileSync(
  join(import.meta.dirname, 'results', 'latest.json'),
  JSON.stringify({ durationMs, rounds, connections, maxRequests, rows }, null, 2),
);
console.log(
  `${rounds} rounds x ${durationMs} ms per case, ${connections} connections, at most ${maxRequests} requests per case and round; medians\n`,
);
console.log(lines.join('\n'));

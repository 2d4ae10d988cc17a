#!/usr/bin/env node
// A payments API protected by @myrmex/idempotency. Several processes on one PostgreSQL or Redis
// behave as one service: a charge runs once per Idempotency-Key, whichever process gets it.
//
//   node examples/idempotency/payments-server.mjs --port 3000 --store memory|sqlite|postgres|redis \
//     [--store-url URL] [--delay-ms D] [--lease-ms L] [--prefix P]
//
// POST /payments {amount, currency} -> 201 {id, amount, currency}; GET /payments/stats -> {charges}.
// With --store postgres the charge is a row in a `payments` table, written in the same
// transaction that records the key (atomic mode); otherwise it is counted in this process.
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { idempotencyOf, jsonResponse, MemoryStore } from '@myrmex/idempotency';
import { idempotencyHooks, withIdempotency } from '@myrmex/idempotency/fastify';
import Fastify from 'fastify';

const STORES = ['memory', 'sqlite', 'postgres', 'redis'];

function fail(message) {
  process.stderr.write(`payments-server: ${message}\n`);
  process.exit(2);
}

function readOptions() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string' },
        store: { type: 'string' },
        'store-url': { type: 'string' },
        'delay-ms': { type: 'string', default: '0' },
        'lease-ms': { type: 'string', default: '30000' },
        prefix: { type: 'string', default: 'payments:' },
      },
      strict: true,
    }));
  } catch (error) {
    fail(error.message);
  }
  const integer = (flag, min) => {
    const text = values[flag];
    if (text === undefined || !/^\d+$/.test(text) || Number(text) < min)
      fail(`--${flag} must be an integer >= ${min}, got ${text ?? 'nothing'}`);
    return Number(text);
  };
  if (!STORES.includes(values.store)) fail(`--store must be one of ${STORES.join(', ')}, got ${values.store ?? 'nothing'}`);
  const port = integer('port', 0);
  if (port > 65535) fail(`--port must be at most 65535, got ${port}`);
  return {
    port,
    store: values.store,
    storeUrl: values['store-url'],
    delayMs: integer('delay-ms', 0),
    leaseMs: integer('lease-ms', 2),
    prefix: values.prefix,
  };
}

/** The store and the ledger that records charges, for the chosen backend. */
async function openBackend(options) {
  if (options.store === 'postgres') {
    const { default: pg } = await import('pg');
    const { PostgresStore } = await import('@myrmex/idempotency/postgres');
    const pool = new pg.Pool({
      connectionString: options.storeUrl ?? 'postgres://postgres@127.0.0.1:5432/test',
      connectionTimeoutMillis: 2000,
    });
    pool.on('error', () => undefined);
    const store = new PostgresStore({ pool });
    await store.ensureSchema();
    await pool
      .query('CREATE TABLE IF NOT EXISTS payments (id text PRIMARY KEY, amount bigint NOT NULL, currency text NOT NULL)')
      .catch(async () => {
        // Several processes starting at once can race on CREATE TABLE; the loser finds it made.
        await pool.query('SELECT 1 FROM payments LIMIT 1');
      });
    return {
      store,
      // Atomic mode: the charge row and the recorded response commit together or not at all.
      charge: (lease, payment) =>
        store.atomic(lease, async (client) => {
          await client.query('INSERT INTO payments (id, amount, currency) VALUES ($1, $2, $3)', [
            payment.id,
            payment.amount,
            payment.currency,
          ]);
          return jsonResponse(201, payment);
        }),
      charges: async () => Number((await pool.query('SELECT count(*) AS n FROM payments')).rows[0].n),
      close: () => pool.end(),
    };
  }
  const store = await openLocalStore(options);
  let charges = 0;
  return {
    store: store.store,
    charge: async (_lease, payment) => {
      charges++;
      return jsonResponse(201, payment);
    },
    charges: async () => charges,
    close: store.close,
  };
}

async function openLocalStore(options) {
  if (options.store === 'memory') return { store: new MemoryStore(), close: async () => undefined };
  if (options.store === 'sqlite') {
    const { default: Database } = await import('better-sqlite3');
    const { SqliteStore } = await import('@myrmex/idempotency/sqlite');
    const database = new Database(options.storeUrl ?? join(tmpdir(), 'myrmex-payments-idempotency.sqlite'));
    database.pragma('journal_mode = WAL');
    database.pragma('busy_timeout = 5000');
    return { store: new SqliteStore({ database }), close: async () => database.close() };
  }
  const { Redis } = await import('ioredis');
  const { RedisStore } = await import('@myrmex/idempotency/redis');
  const client = new Redis(options.storeUrl ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1, connectTimeout: 2000 });
  client.on('error', () => undefined);
  await client.ping();
  return { store: new RedisStore({ client, prefix: options.prefix }), close: async () => void client.disconnect() };
}

const options = readOptions();
let backend;
try {
  backend = await openBackend(options);
} catch (error) {
  process.stderr.write(`payments-server: the ${options.store} store is unreachable: ${error.message}\n`);
  process.exit(1);
}

const app = Fastify();
// The route's own preHandler authenticates; withIdempotency runs it before the key is claimed, so
// the principal is the authenticated account (never a header the client chooses). This example
// has no accounts: every caller is one merchant. A request without a principal is refused.
const authenticate = async (request) => {
  request.merchant = 'demo-merchant';
};
const hooks = idempotencyHooks({
  store: backend.store,
  leaseMs: options.leaseMs,
  principal: (request) => request.merchant,
  logger: app.log,
});

const paymentSchema = {
  type: 'object',
  required: ['amount', 'currency'],
  additionalProperties: false,
  properties: { amount: { type: 'integer', minimum: 1 }, currency: { type: 'string', pattern: '^[A-Z]{3}$' } },
};

app.post('/payments', withIdempotency(hooks, { preHandler: authenticate, schema: { body: paymentSchema } }), async (request, reply) => {
  if (options.delayMs > 0) await sleep(options.delayMs);
  const payment = { id: `pay_${randomUUID()}`, amount: request.body.amount, currency: request.body.currency };
  const response = await backend.charge(idempotencyOf(request)?.lease, payment);
  return reply.code(response.status).headers(response.headers).send(response.body);
});

app.get('/payments/stats', async () => ({ charges: await backend.charges() }));
app.get('/metrics/idempotency', async () => hooks.engine.metrics);

const shutdown = async () => {
  await app.close();
  await backend.close();
  process.exit(0);
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);

await app.listen({ host: '127.0.0.1', port: options.port });
process.stdout.write(`payments-server listening on http://127.0.0.1:${app.server.address().port} (store ${options.store})\n`);

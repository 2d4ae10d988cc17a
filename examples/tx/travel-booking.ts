// The article's travel booking as a saga of @myrmex/tx/saga: flight, hotel, car and insurance from
// four vendors, then the payment (the pivot: after it the trip only goes forward), then a confirmation.
//
//   node --conditions=source --import tsx examples/tx/travel-booking.ts
//
// 1. A runner process books a trip and is killed (SIGKILL) right after the payments server charged
//    the card, before the step was recorded. This process recovers the saga: the payment step runs
//    again with the same Idempotency-Key, the server (examples/idempotency/payments-server.mjs)
//    replays its first answer, and the card is charged once.
// 2. A second trip meets a car vendor with no cars: hotel and flight are cancelled, in reverse order,
//    and the card is never charged.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createIdempotentFetch } from '@myrmex/idempotency/client';
import { sqliteDriver, TransactionManager } from '@myrmex/tx';
import { type SagaDefinition, SagaRunner, SagaStore, type StepContext } from '@myrmex/tx/saga';
import Database from 'better-sqlite3';

const [mode, dbFile, paymentsUrl, sagaId] = process.argv.slice(2);
const here = fileURLToPath(import.meta.url);
const nodeArgs = ['--conditions=source', '--import', 'tsx'];

function open(file: string) {
  const tm = new TransactionManager(sqliteDriver({ open: () => new Database(file) })) as TransactionManager<unknown, unknown>;
  return { tm, store: new SagaStore(tm) };
}

/** The four vendors: one booking per idempotency key, whatever the retries. */
function vendor(tm: TransactionManager<unknown, unknown>, name: string, noStock = false) {
  return {
    name,
    retry: { attempts: 3, backoffMs: 20 },
    execute: async (ctx: StepContext<{ traveller: string }>) => {
      if (noStock) throw new Error(`${name} vendor: nothing available`);
      await tm.execute('INSERT OR IGNORE INTO bookings (k, vendor, status) VALUES (?, ?, ?)', [ctx.idempotencyKey, name, 'booked']);
      return { vendor: name, reference: ctx.idempotencyKey };
    },
    compensate: async (ctx: StepContext) => {
      await tm.execute("UPDATE bookings SET status = 'cancelled' WHERE k = ?", [`${ctx.sagaId}:${name}`]);
    },
  };
}

function trip(tm: TransactionManager<unknown, unknown>, payments: string, options: { noCars?: boolean; crashAfterCharge?: boolean } = {}) {
  const pay = createIdempotentFetch({ maxAttempts: 4, baseDelayMs: 50 });
  const definition: SagaDefinition<{ traveller: string }> = {
    name: 'trip',
    steps: [
      vendor(tm, 'flight'),
      // Hotel, car and insurance do not depend on each other: booked at the same time.
      { parallel: [vendor(tm, 'hotel'), vendor(tm, 'car', options.noCars), vendor(tm, 'insurance')] },
      {
        name: 'payment',
        pivot: true,
        retry: { attempts: 3, backoffMs: 50 },
        execute: async (ctx) => {
          const response = await pay(new URL('/payments', payments), {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'idempotency-key': ctx.idempotencyKey },
            body: JSON.stringify({ amount: 129_900, currency: 'EUR' }),
          });
          if (!response.ok) throw new Error(`payments answered ${response.status}: ${await response.text()}`);
          const charge = (await response.json()) as { id: string };
          if (options.crashAfterCharge) process.kill(process.pid, 'SIGKILL');
          return charge;
        },
      },
      { name: 'confirm', execute: (ctx) => `sent to ${ctx.data.traveller}` },
    ],
  };
  return definition;
}

async function prepare(tm: TransactionManager<unknown, unknown>, store: SagaStore) {
  await store.ensureSchema();
  await tm.execute('CREATE TABLE IF NOT EXISTS bookings (k TEXT PRIMARY KEY, vendor TEXT NOT NULL, status TEXT NOT NULL)');
}

if (mode === '--runner') {
  // The process that is killed after the charge.
  const { tm, store } = open(dbFile!);
  await prepare(tm, store);
  const runner = new SagaRunner({ store, sagas: [trip(tm, paymentsUrl!, { crashAfterCharge: true })], leaseMs: 500 });
  await runner.start('trip', { id: sagaId!, data: { traveller: 'ada@example.com' } });
  process.exit(3);
}

function waitForLine(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const match = pattern.exec(line);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`payments server exited with ${code}`)));
  });
}

const dir = mkdtempSync(join(tmpdir(), 'myrmex-travel-'));
const server = spawn(
  process.execPath,
  [
    ...nodeArgs,
    join(here, '../../idempotency/payments-server.mjs'),
    '--port',
    '0',
    '--store',
    'sqlite',
    '--store-url',
    join(dir, 'payments.db'),
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
try {
  const payments = await waitForLine(server, /listening on (http:\/\/\S+)/);
  const file = join(dir, 'trips.db');
  const { tm, store } = open(file);
  await prepare(tm, store);
  const show = async (id: string) => {
    for (const e of await store.timeline(id)) console.log(`  ${String(e.seq).padStart(2)} ${e.kind}${e.step ? ` ${e.step}` : ''}`);
    const { rows } = await tm.execute<{ vendor: string; status: string }>(
      'SELECT vendor, status FROM bookings WHERE k LIKE ? ORDER BY vendor',
      [`${id}:%`],
    );
    console.log(`  bookings: ${rows.map((r) => `${r.vendor} ${r.status}`).join(', ') || 'none'}`);
  };
  const charges = async () => ((await (await fetch(new URL('/payments/stats', payments))).json()) as { charges: number }).charges;

  console.log('1. a runner is killed right after the card was charged');
  const killed = spawn(process.execPath, [...nodeArgs, here, '--runner', file, payments, 'trip-1'], { stdio: 'inherit' });
  const signal = await new Promise((resolve) => killed.once('exit', (_, s) => resolve(s)));
  console.log(`   runner ended by ${String(signal)}; charges so far: ${await charges()}`);
  const runner = new SagaRunner({ store, sagas: [trip(tm, payments)], leaseMs: 500 });
  let outcome = await runner.resume('trip-1');
  while (outcome.parked) {
    await new Promise((resolve) => setTimeout(resolve, 100)); // the dead runner's lease runs out
    outcome = await runner.resume('trip-1');
  }
  console.log(
    `   recovered by this process: ${outcome.status}; charges: ${await charges()} (the retried payment was replayed, not charged again)`,
  );
  await show('trip-1');

  console.log('2. the car vendor has no cars');
  const failing = new SagaRunner({ store, sagas: [trip(tm, payments, { noCars: true })] });
  const second = await failing.start('trip', { id: 'trip-2', data: { traveller: 'bob@example.com' } });
  console.log(`   ${second.status}: ${second.error}; charges: ${await charges()}`);
  await show('trip-2');
  await tm.close();
} finally {
  server.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}

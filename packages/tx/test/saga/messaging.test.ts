import { nats, postgres } from '@myrmex/test-utils';
import { AckPolicy, connect } from 'nats';
import { expect, it } from 'vitest';
import { Inbox } from '../../src/inbox/index.js';
import { Outbox, Relay } from '../../src/outbox/index.js';
import { natsPublisher } from '../../src/publishers/nats.js';
import { decodeEvent } from '../../src/publishers/publisher.js';
import { SagaStore } from '../../src/saga/index.js';
import { child } from '../events/support.js';
import { bundledChild } from '../support/child.js';
import { openManager } from '../support/databases.js';
import { createReservations, title } from './messaging.js';

// Bundled once: each start is then a bare Node start, not a TypeScript loader's.
const sagaProcess = bundledChild(new URL('./messaging-process.ts', import.meta.url));

const pgGate = await postgres();
const natsGate = await nats();

/**
 * The trip saga with its steps and compensations as messages through JetStream: the saga service runs in a child
 * process killed with SIGKILL at `killAt`, a second process takes over; vendors here consume the commands and reply.
 * Returns the saga's final outcome and the vendors' rows.
 */
async function tripThroughBroker(killAt: string, carRefuses: boolean) {
  const db = await pgGate.freshDatabase();
  const fresh = await natsGate.freshPrefix();
  const opened = openManager('postgres', db.url, { max: 6 });
  const tm = opened.tm;
  const connection = await connect({ servers: new URL(fresh.url).host });
  const stream = fresh.prefix.replaceAll('.', '_').toUpperCase();
  const jsm = await connection.jetstreamManager();
  await jsm.streams.add({ name: stream, subjects: [`${fresh.prefix}.>`] });
  const prefix = `${fresh.prefix}.`;
  const vendorOutbox = new Outbox(tm, { table: 'vendor_outbox' });
  const vendorInbox = new Inbox(tm, { consumer: 'vendors' });
  await Promise.all([vendorOutbox.install(), vendorInbox.install(), new Outbox(tm, { table: 'saga_outbox' }).install()]);
  await new SagaStore(tm).ensureSchema();
  await createReservations(tm);
  const relay = new Relay(vendorOutbox, natsPublisher({ connection, prefix }), { pollIntervalMs: 50, logger: { warn: () => undefined } });
  relay.start();
  await jsm.consumers.add(stream, { durable_name: 'vendors', filter_subject: `${prefix}commands`, ack_policy: AckPolicy.Explicit });
  const commands = await (await connection.jetstream().consumers.get(stream, 'vendors')).consume();
  const received: string[] = [];
  void (async () => {
    for await (const m of commands) {
      const event = decodeEvent(m.string());
      const { sagaId, vendor } = event.payload as { sagaId: string; vendor: string };
      received.push(event.type);
      // Each command changes the vendor's rows once, and its reply is written in the same transaction.
      await tm.run(() =>
        vendorInbox.handle(event.id, async () => {
          if (event.type.startsWith('Reserve')) {
            const refused = vendor === 'car' && carRefuses;
            await tm.execute('INSERT INTO reservations (saga_id, vendor, status, changes) VALUES ($1, $2, $3, 1)', [
              sagaId,
              vendor,
              refused ? 'refused' : 'reserved',
            ]);
            await vendorOutbox.publish({
              aggregateType: 'trip',
              aggregateId: sagaId,
              type: `${title(vendor)}Replied`,
              topic: 'replies',
              payload: { refused },
            });
          } else {
            await tm.execute(
              "UPDATE reservations SET status = 'cancelled', changes = changes + 1 WHERE saga_id = $1 AND vendor = $2 AND status = 'reserved'",
              [sagaId, vendor],
            );
          }
        }),
      );
      relay.wake();
      m.ack();
    }
  })();
  try {
    const sagaId = `trip-${carRefuses ? 'refused' : 'ok'}`;
    const first = child(sagaProcess, [db.url, fresh.url, prefix, sagaId, killAt]);
    expect(await first.exited).toBeNull(); // killed by its signal at killAt
    const second = child(sagaProcess, [db.url, fresh.url, prefix, sagaId, '-']);
    expect(await second.exited).toBe(0);
    const outcome = JSON.parse(second.lines.at(-1)!) as { status: string };
    const { rows } = await tm.execute<{ vendor: string; status: string; changes: number }>(
      'SELECT vendor, status, changes FROM reservations ORDER BY vendor',
    );
    return { outcome, rows: rows.map((r) => [r.vendor, r.status, Number(r.changes)]), received };
  } finally {
    commands.stop();
    await relay.stop();
    await connection.close();
    await opened.close();
    await fresh.dispose();
    await db.dispose();
  }
}

pgGate.describe('a saga driven through the outbox and a broker (PostgreSQL, JetStream)', () => {
  natsGate.describe('with a real broker', () => {
    it.concurrent('killed with -9 while waiting for a reply, another process finishes it: each reservation made once', async () => {
      const { outcome, rows } = await tripThroughBroker('step-waiting:hotel-reply', false);
      expect(outcome.status).toBe('completed');
      expect(rows).toEqual([
        ['car', 'reserved', 1],
        ['flight', 'reserved', 1],
        ['hotel', 'reserved', 1],
      ]);
    });

    it.concurrent('a refusing vendor makes it compensate through cancel commands; killed with -9 mid-compensation, it still cancels each once', async () => {
      const { outcome, rows, received } = await tripThroughBroker('step-compensated:hotel-request', true);
      expect(outcome.status).toBe('compensated');
      expect(rows).toEqual([
        ['car', 'refused', 1],
        ['flight', 'cancelled', 2],
        ['hotel', 'cancelled', 2],
      ]);
      expect(received.filter((t) => t.startsWith('Cancel')).sort()).toEqual(['CancelCar', 'CancelFlight', 'CancelHotel']);
    });
  });
});

// The saga service in its own process: `messaging-process.ts <pg-url> <nats-url> <prefix> <sagaId> <killAt|->`.
// Runs the trip saga's runner, a relay of its outbox (commands) to JetStream, and a durable consumer of the replies
// that delivers them to the runner. Kills itself with SIGKILL after the transition named by killAt
// ("<kind>:<step>"); otherwise prints the saga's final outcome and exits 0.
import { AckPolicy, connect } from 'nats';
import pg from 'pg';
import { Inbox } from '../../src/inbox/index.js';
import { pgDriver, TransactionManager } from '../../src/index.js';
import { Outbox, Relay } from '../../src/outbox/index.js';
import { natsPublisher } from '../../src/publishers/nats.js';
import { decodeEvent } from '../../src/publishers/publisher.js';
import { SagaRunner, SagaStore } from '../../src/saga/index.js';
import type { AnyManager } from '../support/databases.js';
import { messagingTrip } from './messaging.js';

const [url, natsUrl, prefix, sagaId, killAt] = process.argv.slice(2) as [string, string, string, string, string];
const tm = new TransactionManager(pgDriver(new pg.Pool({ connectionString: url, max: 6 })), {
  logger: { warn: () => undefined },
}) as AnyManager;
const outbox = new Outbox(tm, { table: 'saga_outbox' });
const inbox = new Inbox(tm, { consumer: 'saga-commands' });
const store = new SagaStore(tm);
const connection = await connect({ servers: new URL(natsUrl).host });
const relay = new Relay(outbox, natsPublisher({ connection, prefix }), { pollIntervalMs: 50, logger: { warn: () => undefined } });
const stream = prefix.replaceAll('.', '_').toUpperCase().slice(0, -1);
let final: unknown;
const runner = new SagaRunner({
  store,
  sagas: [messagingTrip(tm, outbox, inbox)],
  leaseMs: 300,
  onTransition: (notice) => {
    if (`${notice.kind}:${notice.step ?? ''}` === killAt) process.kill(process.pid, 'SIGKILL');
    relay.wake();
  },
});
relay.start();
const settle = (outcome: { status: string } | undefined) => {
  if (outcome && ['completed', 'compensated', 'failed'].includes(outcome.status)) final ??= outcome;
};

// Replies: a durable consumer, acknowledged once the runner took the event (redelivered after a crash otherwise).
const jsm = await connection.jetstreamManager();
await jsm.consumers.add(stream, {
  durable_name: 'saga-replies',
  filter_subject: `${prefix}replies`,
  ack_policy: AckPolicy.Explicit,
  ack_wait: 1_000_000_000,
});
const messages = await (await connection.jetstream().consumers.get(stream, 'saga-replies')).consume();
void (async () => {
  for await (const m of messages) {
    const event = decodeEvent(m.string());
    const outcome = await runner.deliver(sagaId, { id: event.id, type: event.type, payload: event.payload }).catch(() => undefined);
    if (outcome === undefined) m.nak(50);
    else {
      m.ack();
      settle(outcome);
    }
  }
})();

if ((await store.get(sagaId)) === undefined) settle(await runner.start('trip-messages', { id: sagaId }));
// A restart: take the saga over once the dead process's lease has run out (it may be mid-step).
while (final === undefined) {
  for (const outcome of await runner.recover()) settle(outcome);
  const record = await store.get(sagaId);
  if (record && ['completed', 'compensated', 'failed'].includes(record.status)) final ??= { status: record.status };
  if (final === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
}
await relay.drain();
process.stdout.write(`${JSON.stringify(final)}\n`);
process.exit(0);

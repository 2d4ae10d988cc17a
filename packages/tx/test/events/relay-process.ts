// A relay in its own process, for the crash test: `node --import tsx relay-process.ts <db-url> <nats-url> <subject-prefix> [hangAfter]`.
// Prints "ACK" after each event the stream confirmed, "HUNG" when it stops confirming on purpose
// (so the parent kills it with a batch certainly in flight), and the relay's stats as JSON when the
// outbox is empty.
import { connect } from 'nats';
import pg from 'pg';
import { pgDriver, TransactionManager } from '../../src/index.js';
import { Outbox, Relay } from '../../src/outbox/index.js';
import { natsPublisher } from '../../src/publishers/nats.js';
import type { Publisher } from '../../src/publishers/publisher.js';

const [url, natsUrl, prefix, hang] = process.argv.slice(2) as [string, string, string, string | undefined];
const hangAfter = hang === undefined ? Infinity : Number(hang);
const pool = new pg.Pool({ connectionString: url, max: 4 });
const tm = new TransactionManager(pgDriver(pool));
const connection = await connect({ servers: new URL(natsUrl).host, reconnectTimeWait: 50, maxReconnectAttempts: -1 });
const nats = natsPublisher({ connection, prefix, timeoutMs: 1000 });
let acked = 0;
const publisher: Publisher = {
  name: 'nats',
  async publish(event) {
    if (acked >= hangAfter) return new Promise(() => undefined);
    const outcome = await nats.publish(event);
    acked += 1;
    process.stdout.write('ACK\n');
    if (acked === hangAfter) process.stdout.write('HUNG\n');
    return outcome;
  },
  close: () => nats.close(),
};
const outbox = new Outbox(tm);
const relay = new Relay(outbox, publisher, {
  batchSize: 40,
  keysPerBatch: 6,
  publishTimeoutMs: 60_000,
  backoff: { baseDelayMs: 10, maxDelayMs: 200 },
  logger: { warn: () => undefined },
});
for (;;) {
  await relay.drain();
  const { rows } = await tm.execute<{ n: string }>(`SELECT COUNT(*) AS n FROM ${outbox.tables.outbox} WHERE published_at IS NULL`);
  if (Number(rows[0]!.n) === 0) break;
  await new Promise((resolve) => setTimeout(resolve, 20));
}
process.stdout.write(`${JSON.stringify(relay.stats)}\n`);
await connection.close();
await tm.close();

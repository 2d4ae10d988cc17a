// A relay in its own process, for the crash test: `node --import tsx relay-process.ts <db-url> <nats-url> <subject-prefix> [hangOn]`.
// Prints "ACK" after each event the stream confirmed, "HUNG" once the event named by hangOn is stuck
// and the other keys of its batch are confirmed (so the parent kills it with a batch half published), and the relay's stats as JSON when the
// outbox is empty.
import { connect } from 'nats';
import pg from 'pg';
import { pgDriver, TransactionManager } from '../../src/index.js';
import { Outbox, Relay } from '../../src/outbox/index.js';
import { natsPublisher } from '../../src/publishers/nats.js';
import { hangingPublisher } from './hanging.js';

const [url, natsUrl, prefix, hangOn] = process.argv.slice(2) as [string, string, string, string | undefined];
// hangOn, `<aggregateId>:<n>`: that event's publish never returns, like a broker that stopped answering.
const pool = new pg.Pool({ connectionString: url, max: 4 });
const tm = new TransactionManager(pgDriver(pool));
const connection = await connect({ servers: new URL(natsUrl).host, reconnectTimeWait: 50, maxReconnectAttempts: -1 });
const nats = natsPublisher({ connection, prefix, timeoutMs: 1000 });
const publisher = hangingPublisher(nats, hangOn, (payload) => (payload as { n?: number }).n);
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

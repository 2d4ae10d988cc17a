// A CDC capture in its own process, for the crash test:
// `node --import tsx capture-process.ts <db-url> <nats-url> <subject-prefix> <slot> <publication> [hangOn]`.
// Prints "ACK" after each event the stream confirmed and "HUNG" once the event named by hangOn is
// stuck and the rest of its transaction is confirmed, so the parent kills it with a transaction half published.
import { connect } from 'nats';
import { Capture } from '../../src/cdc/index.js';
import { natsPublisher } from '../../src/publishers/nats.js';
import { hangingPublisher } from './hanging.js';

const [url, natsUrl, prefix, slot, publication, hangOn] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
  string | undefined,
];
// hangOn, `<aggregateId>:<n>`: that event's publish never returns, like a broker that stopped answering.
const connection = await connect({ servers: new URL(natsUrl).host });
const nats = natsPublisher({ connection, prefix });
const publisher = hangingPublisher(nats, hangOn, (payload) => (payload as { after?: { n?: number } }).after?.n);
const capture = new Capture({
  connectionString: url,
  slot,
  publication,
  tables: ['items'],
  publisher,
  topic: () => 'items',
  logger: { warn: () => undefined },
});
await capture.start();
process.stdout.write('STARTED\n');

// A relay feeding a projection, in its own process, for the crash test:
// `node --import tsx projection-process.ts <db-url> [hangAfter]`. Prints "APPLIED" after each event the projection
// committed; with hangAfter (`<stream>:<version>`), that event's delivery never returns once the projection committed
// it (the process is killed there, before the relay marks it sent); without, drains and prints "DONE".
import pg from 'pg';
import { Projection } from '../../src/eventsourcing/index.js';
import { pgDriver, TransactionManager } from '../../src/index.js';
import { Outbox, Relay } from '../../src/outbox/index.js';
import type { Publisher } from '../../src/publishers/publisher.js';
import { credit } from './projection-support.js';

const [url, hangAfter] = process.argv.slice(2) as [string, string | undefined];
const pool = new pg.Pool({ connectionString: url, max: 4 });
const tm = new TransactionManager(pgDriver(pool));
const projection = new Projection(tm, 'balances', (e) => credit(tm, e));
const feed: Publisher = {
  name: 'projection',
  async publish(event) {
    const outcome = await projection.apply(event);
    process.stdout.write('APPLIED\n');
    const p = event.payload as { stream: string; version: number };
    if (`${p.stream}:${p.version}` === hangAfter) {
      process.stdout.write('HUNG\n');
      return new Promise(() => undefined);
    }
    return outcome;
  },
  close: async () => undefined,
};
const relay = new Relay(new Outbox(tm), feed, {
  batchSize: 10,
  keysPerBatch: 3,
  publishTimeoutMs: 60_000,
  logger: { warn: () => undefined },
});
await relay.drain();
process.stdout.write(`DONE ${JSON.stringify(relay.stats)}\n`);
await tm.close();

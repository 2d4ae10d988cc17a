import { postgres } from '@myrmex/test-utils';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Outbox, Relay } from '../../src/outbox/index.js';
import { decodeEvent, type EventEnvelope } from '../../src/publishers/publisher.js';
import { type AnyManager, openManager } from '../support/databases.js';
import { type BrokerUnderTest, brokers } from './brokers.js';
import { inOrderPerKey, until } from './support.js';

const pg = await postgres();
const quiet = { warn: () => undefined };

for (const broker of brokers) {
  broker.describe(`outbox relay to ${broker.name}`, () => {
    pg.describe('on PostgreSQL', () => {
      let tm: AnyManager;
      let under: BrokerUnderTest;
      let dispose: () => Promise<void>;

      beforeEach(async () => {
        const db = await pg.freshDatabase();
        const opened = openManager('postgres', db.url, { max: 8 });
        tm = opened.tm;
        under = await broker.open();
        dispose = async () => {
          await under.dispose();
          await opened.close();
          await db.dispose();
        };
      });
      afterEach(() => dispose());

      it('delivers every event, in order per key, confirmed by the broker', async () => {
        const outbox = new Outbox(tm);
        await outbox.install();
        const keys = 4;
        const perKey = 10;
        for (let n = 0; n < perKey; n++) {
          await tm.run(() =>
            outbox.publish(
              Array.from({ length: keys }, (_, k) => ({
                aggregateType: 'order',
                aggregateId: `o${k}`,
                type: 'Step',
                topic: under.topic,
                payload: { n },
              })),
            ),
          );
        }
        const relay = new Relay(outbox, under.publisher, { batchSize: 16, keysPerBatch: 2, logger: quiet });
        const stats = await relay.drain();
        expect(stats.delivered).toBe(keys * perKey);
        await until(async () => (await under.received()).length >= keys * perKey, `${keys * perKey} events at the consumer`);
        const events: EventEnvelope[] = (await under.received()).map((body) => decodeEvent(body));
        expect(events).toHaveLength(keys * perKey);
        expect(new Set(events.map((e) => e.id)).size).toBe(keys * perKey);
        expect(inOrderPerKey(events, (e) => (e.payload as { n: number }).n)).toBe(true);

        if (under.dedups) {
          // The relay died after the broker's ack and before its commit: every event goes out again.
          await tm.execute(`UPDATE ${outbox.tables.outbox} SET published_at = NULL`);
          const again = await new Relay(outbox, under.publisher, { logger: quiet }).drain();
          expect(again.delivered).toBe(keys * perKey);
          expect(again.duplicates).toBe(keys * perKey);
          expect(await under.received()).toHaveLength(keys * perKey);
        }
      });
    });
  });
}

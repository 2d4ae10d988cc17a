import { postgres, uniqueName } from '@myrmex/test-utils';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Capture } from '../../src/cdc/index.js';
import { Outbox } from '../../src/outbox/index.js';
import { decodeEvent, type EventEnvelope } from '../../src/publishers/publisher.js';
import { type AnyManager, openManager } from '../support/databases.js';
import { type BrokerUnderTest, brokers } from './brokers.js';
import { lsnValue, until } from './support.js';

const pg = await postgres();
const quiet = { warn: () => undefined };

for (const broker of brokers) {
  broker.describe(`CDC to ${broker.name}`, () => {
    pg.describe('from PostgreSQL logical replication (pgoutput)', () => {
      let tm: AnyManager;
      let url: string;
      let under: BrokerUnderTest;
      let capture: Capture | undefined;
      let dispose: () => Promise<void>;
      const events = async (count: number): Promise<EventEnvelope[]> => {
        await until(async () => (await under.received()).length >= count, `${count} events at the consumer`);
        return (await under.received()).map((body) => decodeEvent(body));
      };

      beforeEach(async () => {
        const db = await pg.freshDatabase();
        url = db.url;
        const opened = openManager('postgres', db.url);
        tm = opened.tm;
        under = await broker.open();
        dispose = async () => {
          // A slot left behind would hold WAL forever and keeps its database from being dropped.
          await capture?.stop();
          await capture?.uninstall();
          capture = undefined;
          await under.dispose();
          await opened.close();
          await db.dispose();
        };
      });
      afterEach(() => dispose());

      it('publishes inserts, updates and deletes with before and after images, acknowledged after the broker confirmed', async () => {
        await tm.execute('CREATE TABLE accounts (id integer PRIMARY KEY, owner text NOT NULL, balance integer NOT NULL)');
        capture = new Capture({
          connectionString: url,
          slot: uniqueName('cdc'),
          publication: uniqueName('pub'),
          tables: ['accounts'],
          publisher: under.publisher,
          topic: () => under.topic,
          logger: quiet,
        });
        await capture.install();
        await capture.start();
        await tm.run(async () => {
          await tm.execute("INSERT INTO accounts VALUES (1, 'ada', 100), (2, 'bob', 5)");
        });
        await tm.execute('UPDATE accounts SET balance = balance - 30 WHERE id = 1');
        await tm.execute('DELETE FROM accounts WHERE id = 2');
        const got = await events(4);
        expect(got.map((e) => [e.type, e.aggregateType, e.aggregateId, e.payload])).toEqual([
          ['insert', 'public.accounts', '1', { before: null, after: { id: 1, owner: 'ada', balance: 100 } }],
          ['insert', 'public.accounts', '2', { before: null, after: { id: 2, owner: 'bob', balance: 5 } }],
          [
            'update',
            'public.accounts',
            '1',
            { before: { id: 1, owner: 'ada', balance: 100 }, after: { id: 1, owner: 'ada', balance: 70 } },
          ],
          ['delete', 'public.accounts', '2', { before: { id: 2, owner: 'bob', balance: 5 }, after: null }],
        ]);
        expect(got.every((e) => e.source.startsWith('cdc:') && e.id.startsWith(e.source.slice(4)))).toBe(true);
        // What the broker confirmed is acknowledged: the slot moves past our last write (the cluster is
        // shared, so other databases' WAL keeps coming; the capture confirms it too when idle).
        const { rows } = await tm.execute<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
        await until(async () => {
          const lag = await capture!.lag();
          return lag.active && lsnValue(lag.confirmedFlushLsn ?? '0/0') >= lsnValue(rows[0]!.lsn);
        }, 'the slot to move past the last write');
        // A write the capture has not streamed yet shows as lag once the capture is stopped.
        await capture.stop();
        await tm.execute("INSERT INTO accounts VALUES (3, 'cy', 1)");
        expect((await capture.lag()).lagBytes).toBeGreaterThan(0);
      });

      it('decodes the outbox table itself, so no relay polls (outbox via CDC)', async () => {
        const outbox = new Outbox(tm, { delivery: 'cdc' });
        await outbox.install();
        capture = new Capture({
          connectionString: url,
          slot: uniqueName('cdc'),
          publication: uniqueName('pub'),
          outboxTables: [outbox.tables.outbox],
          publisher: under.publisher,
          logger: quiet,
        });
        await capture.install();
        await capture.start();
        const written: EventEnvelope[] = [];
        for (let n = 0; n < 5; n++) {
          written.push(
            ...(await tm.run(() =>
              outbox.publish([
                { aggregateType: 'order', aggregateId: 'a', type: 'Step', topic: under.topic, payload: { n } },
                { aggregateType: 'order', aggregateId: 'b', type: 'Step', topic: under.topic, payload: { n } },
              ]),
            )),
          );
        }
        await expect(
          tm.run(async () => {
            await outbox.publish({ aggregateType: 'order', aggregateId: 'a', type: 'RolledBack', topic: under.topic, payload: null });
            throw new Error('rolled back');
          }),
        ).rejects.toThrow('rolled back');
        const got = await events(10);
        expect(got.map((e) => e.id)).toEqual(written.map((e) => e.id));
        expect(got[0]).toEqual(written[0]);
        expect((await tm.execute(`SELECT COUNT(*)::int AS n FROM ${outbox.tables.outbox}`)).rows[0]).toEqual({ n: 0 });
      });
    });
  });
}

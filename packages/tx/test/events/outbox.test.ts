import { afterEach, beforeEach, expect, it } from 'vitest';
import { IllegalTransactionStateError } from '../../src/index.js';
import { Outbox, Relay } from '../../src/outbox/index.js';
import type { EventEnvelope } from '../../src/publishers/publisher.js';
import { type AnyManager, scalar, targets } from '../support/databases.js';
import { freshManager, inOrderPerKey, RecordingPublisher, until } from './support.js';

const quiet = { warn: () => undefined };
const counter = (e: EventEnvelope) => (e.payload as { n: number }).n;

for (const target of targets) {
  target.describe(`outbox on ${target.kind}`, () => {
    let tm: AnyManager;
    let dispose: () => Promise<void>;
    let outbox: Outbox;

    beforeEach(async () => {
      ({ tm, dispose } = await freshManager(target));
      outbox = new Outbox(tm);
      await outbox.install();
      await outbox.install(); // idempotent
      await tm.execute('CREATE TABLE orders (id integer PRIMARY KEY, total integer NOT NULL)');
    });
    afterEach(() => dispose());

    const steps = (...events: [string, number][]) =>
      tm.run(() => outbox.publish(events.map(([key, n]) => ({ aggregateType: 'order', aggregateId: key, type: 'Step', payload: { n } }))));
    const order = (id: number, fail = false) =>
      tm.run(async () => {
        await tm.execute(`INSERT INTO orders (id, total) VALUES (${id}, 10)`);
        await outbox.publish({ aggregateType: 'order', aggregateId: id, type: 'OrderCreated', payload: { id } });
        if (fail) throw new Error('business rule failed after the event was written');
      });

    it('writes the event in the same transaction as the business rows', async () => {
      await order(1);
      await expect(order(2, true)).rejects.toThrow('business rule');
      expect(await scalar(tm, 'SELECT COUNT(*) FROM orders')).toBe(1);
      expect(await scalar(tm, `SELECT COUNT(*) FROM ${outbox.tables.outbox}`)).toBe(1);
      const { rows } = await tm.execute<{ aggregate_id: string; type: string }>(`SELECT aggregate_id, type FROM ${outbox.tables.outbox}`);
      expect(rows).toEqual([{ aggregate_id: '1', type: 'OrderCreated' }]);
    });

    it('refuses to publish outside a transaction, and names the bad field', async () => {
      await expect(outbox.publish({ aggregateType: 'order', aggregateId: 1, type: 'X', payload: null })).rejects.toThrow(
        IllegalTransactionStateError,
      );
      await expect(tm.run(() => outbox.publish({ aggregateType: 'order', aggregateId: '', type: 'X', payload: null }))).rejects.toThrow(
        /events\[0\]\.aggregateId must be a non-empty string/,
      );
      await expect(tm.run(() => outbox.publish([{ aggregateType: 'order', aggregateId: 1, type: 'X' } as never]))).rejects.toThrow(
        /events\[0\]\.payload is missing/,
      );
      expect(() => new Outbox(tm, { table: 'x; drop table y' })).toThrow(/OutboxOptions.table/);
      expect(await scalar(tm, `SELECT COUNT(*) FROM ${outbox.tables.outbox}`)).toBe(0);
    });

    it('three relays racing deliver every event once, in order per key', async () => {
      const keys = 12;
      const perKey = 15;
      for (let n = 0; n < perKey; n++) {
        await tm.run(() =>
          outbox.publish(
            Array.from({ length: keys }, (_, k) => ({ aggregateType: 'order', aggregateId: `k${k}`, type: 'Step', payload: { n } })),
          ),
        );
      }
      const publisher = new RecordingPublisher();
      const relays = [0, 1, 2].map(() => new Relay(outbox, publisher, { batchSize: 7, keysPerBatch: 3, logger: quiet }));
      // SQLite has one writer: its relays take turns; the servers' relays really overlap (SKIP LOCKED).
      await Promise.all(relays.map((r) => r.drain()));
      expect(publisher.received).toHaveLength(keys * perKey);
      expect(new Set(publisher.received.map((e) => e.id)).size).toBe(keys * perKey);
      expect(inOrderPerKey(publisher.received, counter)).toBe(true);
      expect(publisher.maxInFlightPerKey).toBe(1);
      expect(relays.reduce((sum, r) => sum + r.stats.delivered, 0)).toBe(keys * perKey);
      if (target.kind !== 'sqlite') expect(relays.filter((r) => r.stats.delivered > 0).length).toBeGreaterThan(1);
      expect(await scalar(tm, `SELECT COUNT(*) FROM ${outbox.tables.outbox} WHERE published_at IS NULL`)).toBe(0);
    });

    it('retries with backoff, holds the key behind a failing event, and parks a poison event', async () => {
      await tm.run(() =>
        outbox.publish([
          { aggregateType: 'order', aggregateId: 'a', type: 'Poison', payload: { n: 1 } },
          { aggregateType: 'order', aggregateId: 'a', type: 'Fine', payload: { n: 2 } },
          { aggregateType: 'order', aggregateId: 'b', type: 'Flaky', payload: { n: 1 } },
          { aggregateType: 'order', aggregateId: 'b', type: 'Fine', payload: { n: 2 } },
        ]),
      );
      const publisher = new RecordingPublisher();
      let flaky = 2;
      publisher.failWith = (e) => {
        if (e.type === 'Poison') return new Error('the broker rejects this one');
        if (e.type === 'Flaky' && flaky-- > 0) return new Error('transient');
        return undefined;
      };
      const relay = new Relay(outbox, publisher, { maxAttempts: 3, backoff: { baseDelayMs: 1, maxDelayMs: 5 }, logger: quiet });
      await relay.runOnce();
      // Nothing of either key overtook its failing head.
      expect(publisher.received).toEqual([]);
      await until(async () => {
        await relay.runOnce();
        return publisher.received.length === 3;
      }, 'the flaky event and both followers');
      expect(publisher.received.map((e) => `${e.aggregateId}:${e.type}`).sort()).toEqual(['a:Fine', 'b:Fine', 'b:Flaky']);
      expect(inOrderPerKey(publisher.received, counter)).toBe(true);
      const dead = await relay.deadLetters();
      expect(dead.map((d) => [d.type, Number(d.attempts), d.last_error])).toEqual([['Poison', 3, 'Error: the broker rejects this one']]);
      publisher.failWith = () => undefined;
      expect(await relay.requeue(dead[0]!.id)).toBe(true);
      await relay.drain();
      expect(publisher.received.at(-1)?.type).toBe('Poison');
      expect(await relay.deadLetters()).toEqual([]);
    });

    it('a sole relay holds no lock while the broker answers: writers commit meanwhile, and order per key holds', async () => {
      await steps(['a', 1], ['b', 1], ['a', 2]);
      const publisher = new RecordingPublisher();
      let unblock!: () => void;
      const blocked = new Promise<void>((resolve) => {
        unblock = resolve;
      });
      const inner = publisher.publish.bind(publisher);
      let publishing = 0;
      publisher.publish = async (event) => {
        publishing += 1;
        await blocked;
        return inner(event);
      };
      const relay = new Relay(outbox, publisher, { sole: true, logger: quiet });
      const batch = relay.runOnce();
      await until(() => publishing === 2, 'the heads of a and b in flight');
      // Were the batch's transaction open (on SQLite: the write lock), this writer would wait for the broker.
      await steps(['a', 3]);
      unblock();
      expect((await batch).delivered).toBe(3);
      await relay.drain();
      expect(publisher.received.map((e) => `${e.aggregateId}:${counter(e)}`).filter((k) => k.startsWith('a'))).toEqual([
        'a:1',
        'a:2',
        'a:3',
      ]);
      expect(publisher.received).toHaveLength(4);
    });

    it('deletes delivered rows after the retention, never undelivered ones', async () => {
      await order(1);
      await order(2);
      const relay = new Relay(outbox, new RecordingPublisher(), { retentionMs: 60_000, logger: quiet });
      await relay.drain();
      expect(await relay.cleanup()).toBe(0);
      await order(3);
      const expired = new Relay(outbox, new RecordingPublisher(), { retentionMs: 0, logger: quiet });
      await until(
        async () => (await expired.cleanup()) > 0 || (await scalar(tm, `SELECT COUNT(*) FROM ${outbox.tables.outbox}`)) === 1,
        'the sweep',
      );
      expect(await scalar(tm, `SELECT COUNT(*) FROM ${outbox.tables.outbox}`)).toBe(1);
      expect(await scalar(tm, `SELECT COUNT(*) FROM ${outbox.tables.outbox} WHERE published_at IS NULL`)).toBe(1);
    });

    if (target.kind !== 'sqlite') {
      // Another relay's claim, held open: the head of `key` locked in a transaction that commits on `release()`.
      const holdHead = async (key: string) => {
        let release!: () => void;
        let held = false;
        const done = tm.run(async () => {
          await tm.execute(
            `SELECT seq FROM ${outbox.tables.outbox} WHERE aggregate_id = '${key}' AND published_at IS NULL ORDER BY seq LIMIT 1 FOR UPDATE`,
          );
          held = true;
          await new Promise<void>((resolve) => {
            release = resolve;
          });
          return tm.execute<{ seq: number }>(
            `SELECT seq FROM ${outbox.tables.outbox} WHERE aggregate_id = '${key}' AND published_at IS NULL ORDER BY seq FOR UPDATE SKIP LOCKED`,
          );
        });
        await until(() => held, `the head of ${key} held`);
        return { release: () => release(), done };
      };

      it('locks only the rows of the keys it claimed, so a relay holding another key can take all of that key', async () => {
        await steps(['k0', 1], ['k1', 1], ['k1', 2], ['k2', 1]);
        const other = await holdHead('k1');
        const publisher = new RecordingPublisher();
        let unblock!: () => void;
        const blocked = new Promise<void>((resolve) => {
          unblock = resolve;
        });
        const inner = publisher.publish.bind(publisher);
        let publishing = 0;
        publisher.publish = async (event) => {
          publishing += 1;
          await blocked;
          return inner(event);
        };
        const relay = new Relay(outbox, publisher, { logger: quiet });
        const batch = relay.runOnce();
        await until(() => publishing === 2, 'the relay to claim k0 and k2 and publish');
        // The relay's batch is open (k0 and k2 claimed, publishing). The other relay's claim sees all of k1.
        other.release();
        const { rows } = await other.done;
        unblock();
        expect((await batch).claimed).toBe(2);
        expect(rows).toHaveLength(2);
      });

      it('drain returns only once no due event is left, waiting for events another relay holds', async () => {
        await steps(['k0', 1], ['k1', 1], ['k1', 2]);
        const other = await holdHead('k1');
        const publisher = new RecordingPublisher();
        const relay = new Relay(outbox, publisher, { logger: quiet });
        const drained = relay.drain();
        await until(() => publisher.received.length === 1, 'k0 delivered');
        other.release();
        await other.done;
        await drained;
        expect(publisher.received.map((e) => `${e.aggregateId}:${counter(e)}`)).toEqual(['k0:1', 'k1:1', 'k1:2']);
      });

      it('makes a later writer of the same key wait, so the relay never sees its event first', async () => {
        let commitFirst!: () => void;
        const first = tm.run(async () => {
          await outbox.publish({ aggregateType: 'order', aggregateId: 'x', type: 'First', payload: { n: 1 } });
          await new Promise<void>((resolve) => {
            commitFirst = resolve;
          });
        });
        await until(() => commitFirst !== undefined, 'the first writer to hold its transaction open');
        const second = tm.run(() => outbox.publish({ aggregateType: 'order', aggregateId: 'x', type: 'Second', payload: { n: 2 } }));
        const waiting =
          target.kind === 'postgres'
            ? "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            : `SELECT COUNT(*) FROM information_schema.processlist WHERE command = 'Query' AND info LIKE 'INSERT INTO ${outbox.tables.keys}%'`;
        await until(async () => (await scalar(tm, waiting)) > 0, 'the second writer to wait for the key');
        const publisher = new RecordingPublisher();
        const relay = new Relay(outbox, publisher, { logger: quiet });
        await relay.drain();
        expect(publisher.received).toEqual([]);
        commitFirst();
        await first;
        await second;
        await relay.drain();
        expect(publisher.received.map((e) => e.type)).toEqual(['First', 'Second']);
      });
    }

    if (target.kind === 'postgres') {
      it('wakes on NOTIFY at commit instead of waiting for the poll', async () => {
        const publisher = new RecordingPublisher();
        const relay = new Relay(outbox, publisher, { pollIntervalMs: 600_000, logger: quiet });
        relay.start();
        try {
          await until(() => relay.listening, 'the LISTEN connection');
          await order(7);
          await until(() => publisher.received.length === 1, 'delivery woken by NOTIFY', 10_000);
        } finally {
          await relay.stop();
        }
        expect(publisher.received[0]?.aggregateId).toBe('7');
      });
    }
  });
}

import { freshEach } from '@myrmex/test-utils';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { EventStore, Projection, ProjectionGapError } from '../../src/eventsourcing/index.js';
import { Outbox, Relay } from '../../src/outbox/index.js';
import type { Publisher } from '../../src/publishers/publisher.js';
import { child, until } from '../events/support.js';
import { bundledChild } from '../support/child.js';
import { type AnyManager, type Opened, openManager, scalar, targets } from '../support/databases.js';
import { credit } from './projection-support.js';

// Bundled once: each start is then a bare Node start, not a TypeScript loader's.
const projectionProcess = bundledChild(new URL('./projection-process.ts', import.meta.url));

const quiet = { warn: () => undefined };

for (const target of targets) {
  const { kind } = target;
  target.describe(`projection fed by the outbox relay on ${kind}`, () => {
    const db = freshEach(target.fresh);
    let opened: Opened;
    let tm: AnyManager;
    let outbox: Outbox;
    let store: EventStore;
    beforeEach(async () => {
      opened = openManager(kind, db.current.url, { max: 6 });
      tm = opened.tm;
      outbox = new Outbox(tm);
      await outbox.install();
      store = new EventStore(tm, { outbox });
      await store.ensureSchema();
      await tm.execute('CREATE TABLE balances (account VARCHAR(100) PRIMARY KEY, amount INT NOT NULL)');
    });
    afterEach(() => opened.close());
    // SQLite has one writer: the projection's transaction cannot open while a relay holds its batch's, so the relay
    // there is a sole one (no transaction open while it delivers).
    const relayOptions = { logger: quiet, ...(kind === 'sqlite' ? { sole: true } : {}) };

    const balances = async () =>
      Object.fromEntries(
        (await tm.execute<{ account: string; amount: number }>('SELECT account, amount FROM balances ORDER BY account')).rows.map((r) => [
          r.account,
          Number(r.amount),
        ]),
      );
    const deposit = (stream: string, version: number, amount: number) =>
      store.append(stream, version, [{ type: 'Deposited', data: { amount } }]);

    it('applies each appended event once, even when the relay delivers it again after a lost acknowledgement', async () => {
      const projection = new Projection(tm, 'balances', (e) => credit(tm, e));
      await projection.ensureSchema();
      await deposit('a', 0, 10);
      await deposit('a', 1, 5);
      await store.append('b', 0, [
        { type: 'Deposited', data: { amount: 7 } },
        { type: 'Withdrawn', data: { amount: 2 } },
      ]);
      // The projection commits, then the acknowledgement is lost (a relay crash between the two, as far as the relay knows).
      let lost = 0;
      const flaky: Publisher = {
        name: 'flaky',
        async publish(event) {
          const outcome = await projection.apply(event);
          if (lost < 2) {
            lost += 1;
            throw new Error('connection lost before the acknowledgement');
          }
          return outcome;
        },
        close: async () => undefined,
      };
      const relay = new Relay(outbox, flaky, { ...relayOptions, backoff: { baseDelayMs: 1, maxDelayMs: 2 } });
      await until(async () => {
        await relay.drain();
        return (await scalar(tm, `SELECT COUNT(*) FROM ${outbox.tables.outbox} WHERE published_at IS NULL`)) === 0;
      }, 'every event delivered');
      expect(await balances()).toEqual({ a: 15, b: 5 });
      expect(relay.stats.duplicates).toBe(2);
      expect([await projection.position('a'), await projection.position('b')]).toEqual([2, 2]);

      // A restart (new relay, new projection object) resumes from the checkpoints.
      await deposit('a', 2, 100);
      await new Relay(outbox, new Projection(tm, 'balances', (e) => credit(tm, e)), relayOptions).drain();
      expect(await balances()).toEqual({ a: 115, b: 5 });
    });

    it('refuses a gap in a stream instead of skipping it, and a handler failure leaves nothing half-applied', async () => {
      const projection = new Projection(tm, 'balances', (e) => credit(tm, e));
      await projection.ensureSchema();
      const envelope = (version: number) =>
        ({
          id: `x${version}`,
          source: 'outbox',
          aggregateType: 'myrmex_event',
          aggregateId: 'c',
          type: 'Deposited',
          topic: 't',
          payload: { stream: 'c', version, type: 'Deposited', data: { amount: 1 }, at: 0 },
          headers: {},
          occurredAt: new Date(0).toISOString(),
        }) as const;
      await expect(projection.apply(envelope(2))).rejects.toBeInstanceOf(ProjectionGapError);
      const failing = new Projection(tm, 'balances', async (e) => {
        await credit(tm, e);
        throw new Error('read model refused');
      });
      await expect(failing.apply(envelope(1))).rejects.toThrow('read model refused');
      expect(await balances()).toEqual({});
      expect(await projection.apply(envelope(1))).toEqual({ duplicate: false });
      expect(await projection.apply(envelope(1))).toEqual({ duplicate: true });
      expect(await balances()).toEqual({ c: 1 });
      expect(() => new Projection(tm, '', () => undefined)).toThrow(/name must be a string of 1-100 characters/);
    });

    if (kind === 'postgres') {
      it('a projection process killed with -9 after committing an event, before the relay marked it, resumes without applying it twice', async () => {
        await new Projection(tm, 'balances', () => undefined).ensureSchema();
        for (let v = 0; v < 6; v++) for (const s of ['p', 'q', 'r']) await deposit(s, v, v + 1);
        const first = child(projectionProcess, [db.current.url, 'q:4']);
        await until(() => first.lines.includes('HUNG'), 'the projection to commit q:4 and hang');
        first.child.kill('SIGKILL');
        await first.exited;
        const second = child(projectionProcess, [db.current.url]);
        expect(await second.exited).toBe(0);
        const stats = JSON.parse(second.lines.at(-1)!.slice('DONE '.length)) as { duplicates: number };
        expect(stats.duplicates).toBeGreaterThan(0);
        expect(await balances()).toEqual({ p: 21, q: 21, r: 21 });
      });
    }
  });
}

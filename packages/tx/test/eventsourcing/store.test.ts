import { freshAll } from '@myrmex/test-utils';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EventStore, type StoredEvent, StreamVersionConflictError } from '../../src/eventsourcing/index.js';
import { type AnyManager, type Opened, openManager, targets } from '../support/databases.js';

const balance = (state: number, e: StoredEvent) =>
  state + (e.type === 'Deposited' ? 1 : -1) * Number((e.data as { amount: number }).amount);

for (const target of targets) {
  const { kind } = target;
  target.describe(`event store on ${kind}`, () => {
    const db = freshAll(target.fresh);
    let opened: Opened;
    let tm: AnyManager;
    let store: EventStore;
    beforeAll(async () => {
      opened = openManager(kind, db.current.url, { max: 6 });
      tm = opened.tm;
      store = new EventStore(tm);
      await store.ensureSchema();
      await store.ensureSchema();
      await tm.execute('CREATE TABLE balances (account VARCHAR(100) PRIMARY KEY, amount INT NOT NULL)');
    });
    afterAll(() => opened.close());

    it('appends with optimistic concurrency on the stream version: of two writers that read the same version, one wins', async () => {
      expect(await store.append('acct-1', 0, [{ type: 'Deposited', data: { amount: 100 } }])).toBe(1);
      const writers = await Promise.allSettled([
        store.append('acct-1', 1, [{ type: 'Withdrawn', data: { amount: 30 } }]),
        store.append('acct-1', 1, [{ type: 'Withdrawn', data: { amount: 80 } }]),
      ]);
      expect(writers.filter((w) => w.status === 'fulfilled')).toHaveLength(1);
      const loser = writers.find((w) => w.status === 'rejected') as PromiseRejectedResult;
      expect(loser.reason).toBeInstanceOf(StreamVersionConflictError);
      expect((await store.read('acct-1')).map((e) => e.version)).toEqual([1, 2]);
      await expect(store.append('acct-1', 0, [{ type: 'Deposited', data: { amount: 1 } }])).rejects.toBeInstanceOf(
        StreamVersionConflictError,
      );
    });

    it('loads from the latest snapshot plus the events after it', async () => {
      await store.append('acct-2', 0, [
        { type: 'Deposited', data: { amount: 50 } },
        { type: 'Deposited', data: { amount: 25 } },
      ]);
      const before = await store.load('acct-2', 0, balance);
      expect(before).toEqual({ state: 75, version: 2 });
      await store.saveSnapshot('acct-2', 2, 1000); // a deliberately different state, to see the snapshot is used
      await store.append('acct-2', 2, [{ type: 'Withdrawn', data: { amount: 5 } }]);
      expect(await store.load('acct-2', 0, balance)).toEqual({ state: 995, version: 3 });
    });

    it('a projection applies each event once, in the transaction that moves its checkpoint', async () => {
      const project = () =>
        store.project('balances', async (event) => {
          const amount = balance(0, event);
          const p = (n: number) => tm.driver.placeholder(n);
          const updated = await tm.execute(`UPDATE balances SET amount = amount + ${p(1)} WHERE account = ${p(2)}`, [amount, event.stream]);
          if (updated.rowCount === 0)
            await tm.execute(`INSERT INTO balances (account, amount) VALUES (${p(1)}, ${p(2)})`, [event.stream, amount]);
        });
      const first = await project();
      expect(first).toBe((await store.readAll(0)).length);
      expect(await project()).toBe(0);
      await store.append('acct-3', 0, [{ type: 'Deposited', data: { amount: 7 } }]);
      // A failing handler rolls its batch and the checkpoint back: nothing half-applied.
      await expect(store.project('balances', () => Promise.reject(new Error('read model down')))).rejects.toThrow('read model down');
      expect(await project()).toBe(1);
      const { rows } = await tm.execute<{ account: string; amount: number }>('SELECT account, amount FROM balances ORDER BY account');
      const acct1 = (await store.load('acct-1', 0, balance)).state;
      expect(rows.map((r) => [r.account, Number(r.amount)])).toEqual([
        ['acct-1', acct1],
        ['acct-2', 70],
        ['acct-3', 7],
      ]);
    });
  });
}

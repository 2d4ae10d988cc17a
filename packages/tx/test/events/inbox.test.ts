import { afterEach, beforeEach, expect, it } from 'vitest';
import { Inbox } from '../../src/inbox/index.js';
import { type AnyManager, scalar, targets } from '../support/databases.js';
import { freshManager } from './support.js';

for (const target of targets) {
  target.describe(`inbox on ${target.kind}`, () => {
    let tm: AnyManager;
    let dispose: () => Promise<void>;
    let inbox: Inbox;

    beforeEach(async () => {
      ({ tm, dispose } = await freshManager(target));
      inbox = new Inbox(tm, { consumer: 'billing' });
      await inbox.install();
      await tm.execute('CREATE TABLE ledger (event_id varchar(64) NOT NULL, amount integer NOT NULL)');
    });
    afterEach(() => dispose());

    const apply = (id: string, amount: number) =>
      inbox.handle(id, () => tm.execute(`INSERT INTO ledger (event_id, amount) VALUES ('${id}', ${amount})`));

    it('applies a redelivered event once, in the consumer’s own transaction', async () => {
      expect((await apply('e1', 5)).duplicate).toBe(false);
      expect((await apply('e1', 5)).duplicate).toBe(true);
      // Another consumer of the same table handles the same id independently.
      const other = new Inbox(tm, { consumer: 'audit' });
      expect((await other.handle('e1', () => 'seen')).duplicate).toBe(false);
      expect(await scalar(tm, 'SELECT SUM(amount) FROM ledger')).toBe(5);
    });

    it('keeps neither the id nor the effect when the handler fails, so the redelivery applies it', async () => {
      await expect(
        inbox.handle('e2', async () => {
          await tm.execute(`INSERT INTO ledger (event_id, amount) VALUES ('e2', 7)`);
          throw new Error('handler crashed');
        }),
      ).rejects.toThrow('handler crashed');
      expect(await scalar(tm, 'SELECT COUNT(*) FROM ledger')).toBe(0);
      expect((await apply('e2', 7)).duplicate).toBe(false);
      expect(await scalar(tm, 'SELECT SUM(amount) FROM ledger')).toBe(7);
    });

    it('lets one of several concurrent deliveries of one event through', async () => {
      const results = await Promise.allSettled(Array.from({ length: 6 }, () => apply('e3', 1)));
      const applied = results.filter((r) => r.status === 'fulfilled' && !r.value.duplicate).length;
      expect(applied).toBe(1);
      expect(await scalar(tm, 'SELECT COUNT(*) FROM ledger')).toBe(1);
    });

    it('validates its input and prunes old ids', async () => {
      await expect(inbox.handle('', () => 1)).rejects.toThrow(/eventId must be a non-empty string/);
      expect(() => new Inbox(tm, { consumer: '' })).toThrow(/InboxOptions.consumer/);
      await apply('old', 1);
      expect(await inbox.prune(Date.now() + 1)).toBe(1);
      expect((await apply('old', 1)).duplicate).toBe(false);
    });
  });
}

import { freshAll } from '@myrmex/test-utils';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createBank, SERVER_STRATEGIES, type Strategy, transfer } from './support/bank.js';
import { type AnyManager, type Opened, openManager, scalar, targets } from './support/databases.js';

/** The first attempt of each side waits (up to `ms`) for the other, so both read before either writes. */
function rendezvous(ms: number): () => Promise<void> {
  let waiting: (() => void) | undefined;
  let used = 0;
  return () => {
    used += 1;
    if (used > 2) return Promise.resolve();
    if (waiting) {
      waiting();
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      waiting = resolve;
      setTimeout(resolve, ms).unref();
    });
  };
}

/** Two concurrent withdrawals of the whole balance of account 1 (100), paid into accounts 2 and 3. */
async function doubleWithdraw(tm: AnyManager, strategy: Strategy): Promise<{ successes: number; balance: number; total: number }> {
  // The unsafe strategy takes no lock, so both sides always arrive: a long bound only guards a loaded
  // machine. The fixes may block the second side before it arrives; there the bound is what releases the first.
  const pause = rendezvous(strategy === 'unsafe' ? 5000 : 300);
  const results = await Promise.all([transfer(tm, strategy, 1, 2, 100, pause), transfer(tm, strategy, 1, 3, 100, pause)]);
  return {
    successes: results.filter(Boolean).length,
    balance: await scalar(tm, 'SELECT balance FROM accounts WHERE id = 1'),
    total: await scalar(tm, 'SELECT sum(balance) FROM accounts'),
  };
}

for (const target of targets) {
  const { kind } = target;
  target.describe(`double spend on ${kind}`, () => {
    const db = freshAll(target.fresh);
    let opened: Opened;
    beforeAll(() => {
      opened = openManager(kind, db.current.url, { max: 4 });
    });
    afterAll(() => opened.close());

    if (kind === 'sqlite') {
      it('check-then-act cannot double-spend: BEGIN IMMEDIATE makes the second withdrawal wait and then see 0', async () => {
        await createBank(opened.tm, kind, 3, 100);
        expect(await doubleWithdraw(opened.tm, 'immediate')).toEqual({ successes: 1, balance: 0, total: 300 });
      });
      return;
    }

    it('check-then-act at READ COMMITTED double-spends, and the test detects it', async () => {
      await createBank(opened.tm, kind, 3, 100);
      const outcome = await doubleWithdraw(opened.tm, 'unsafe');
      expect(outcome.successes).toBe(2);
      // 200 paid out of 100: money was created.
      expect(outcome.total).toBe(400);
    });

    for (const strategy of SERVER_STRATEGIES) {
      it(`the ${strategy} fix lets exactly one withdrawal through`, async () => {
        await createBank(opened.tm, kind, 3, 100);
        expect(await doubleWithdraw(opened.tm, strategy)).toEqual({ successes: 1, balance: 0, total: 300 });
      });
    }
  });
}

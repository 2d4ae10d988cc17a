import { freshAll } from '@myrmex/test-utils';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type BankReport, runBank, SERVER_STRATEGIES, type Strategy } from './support/bank.js';
import { type Opened, openManager, targets } from './support/databases.js';

// The bench runs the full 5,000 transfers; the suite uses fewer to stay fast (override with TX_BANK_TRANSFERS).
const TRANSFERS = Number(process.env.TX_BANK_TRANSFERS ?? 300);
const reports: Array<BankReport & { kind: string }> = [];

afterAll(() => {
  if (reports.length > 0) {
    console.log(`\nbank test, ${TRANSFERS} transfers, 8 workers, 2 readers, 10 accounts`);
    console.table(
      reports.map((r) => ({
        db: r.kind,
        strategy: r.strategy,
        committed: r.committed,
        declined: r.declined,
        retries: r.retries,
        reads: r.reads,
        'tx/s': Math.round(r.transfersPerSecond),
      })),
    );
  }
});

for (const target of targets) {
  const { kind } = target;
  const strategies: readonly Strategy[] = kind === 'sqlite' ? ['immediate'] : SERVER_STRATEGIES;
  target.describe(`Jepsen-style bank test on ${kind}`, () => {
    const db = freshAll(target.fresh);
    let opened: Opened;
    beforeAll(() => {
      opened = openManager(kind, db.current.url, { max: 10 });
    });
    afterAll(() => opened.close());

    for (const strategy of strategies) {
      it(`${strategy}: every read sums to the total, no balance goes negative, no transfer is lost`, async () => {
        const report = await runBank(opened.tm, kind, strategy, {
          accounts: 10,
          initial: 100,
          workers: 8,
          readers: 2,
          transfers: TRANSFERS,
          seed: 20261125,
        });
        reports.push({ ...report, kind });
        expect(report.committed + report.declined).toBe(TRANSFERS);
        expect(report.committed).toBeGreaterThan(0);
        expect(report.reads).toBeGreaterThan(0);
        expect(report.badReads).toBe(0);
        expect(report.finalTotal).toBe(1000);
        expect(report.ledgerMismatches).toBe(0);
        expect(report.ledgerDrift).toBe(0);
      });
    }
  });
}

import type { ProjectedEvent } from '../../src/eventsourcing/index.js';
import type { TransactionManager } from '../../src/index.js';

/** The read model of the projection tests: a balance per account, changed by Deposited and Withdrawn events. */
export async function credit(tm: TransactionManager<unknown, unknown>, event: ProjectedEvent): Promise<void> {
  const amount = (event.type === 'Deposited' ? 1 : -1) * Number((event.data as { amount: number }).amount);
  const p = (n: number) => tm.driver.placeholder(n);
  const updated = await tm.execute(`UPDATE balances SET amount = amount + ${p(1)} WHERE account = ${p(2)}`, [amount, event.stream]);
  if (updated.rowCount === 0) await tm.execute(`INSERT INTO balances (account, amount) VALUES (${p(1)}, ${p(2)})`, [event.stream, amount]);
}

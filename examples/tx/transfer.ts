// Money transfers with @myrmex/tx on PostgreSQL: a @Transactional service, a REQUIRES_NEW audit log
// that survives a rollback, a NESTED savepoint, hooks, retry, row locks in a deadlock-free order.
// Run: npx tsc -b packages/tx && npx tsx examples/tx/transfer.ts   (MYRMEX_PG_URL picks the database)
import { lockRows, pgDriver, Transactional, TransactionManager } from '@myrmex/tx';
import pg from 'pg';

class InsufficientFunds extends Error {}

class Bank {
  constructor(readonly tm: TransactionManager<pg.PoolClient, pg.Pool>) {}

  // The outermost boundary retries deadlocks and serialization failures; joined scopes may not.
  @Transactional({ retry: { attempts: 5 } })
  async transfer(from: number, to: number, amount: number): Promise<void> {
    await this.move(from, to, amount);
  }

  @Transactional()
  async move(from: number, to: number, amount: number): Promise<void> {
    await this.audit(`transfer ${amount} from ${from} to ${to} requested`);
    const rows = await lockRows<{ id: number; balance: number }>(this.tm, 'example_accounts', [from, to]);
    const source = rows.find((r) => r.id === from);
    if (!source || source.balance < amount) throw new InsufficientFunds(`account ${from} cannot pay ${amount}`);
    await this.tm.execute('UPDATE example_accounts SET balance = balance - $1 WHERE id = $2', [amount, from]);
    await this.tm.execute('UPDATE example_accounts SET balance = balance + $1 WHERE id = $2', [amount, to]);
    this.tm.synchronize({ afterCommit: () => console.log(`  committed: ${amount} from ${from} to ${to}`) });
  }

  // Its own transaction: the audit row stays even when the transfer rolls back.
  @Transactional({ propagation: 'REQUIRES_NEW' })
  async audit(message: string): Promise<void> {
    await this.tm.execute('INSERT INTO example_audit (message) VALUES ($1)', [message]);
  }

  @Transactional({ readOnly: true })
  async balances(): Promise<string> {
    const { rows } = await this.tm.execute<{ id: number; balance: number }>('SELECT id, balance FROM example_accounts ORDER BY id');
    return rows.map((r) => `${r.id}: ${r.balance}`).join(', ');
  }
}

const pool = new pg.Pool({ connectionString: process.env.MYRMEX_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test', max: 4 });
const tm = new TransactionManager(pgDriver(pool));
try {
  await tm.execute('DROP TABLE IF EXISTS example_accounts, example_audit');
  await tm.execute('CREATE TABLE example_accounts (id INT PRIMARY KEY, balance INT NOT NULL CHECK (balance >= 0))');
  await tm.execute('CREATE TABLE example_audit (id SERIAL PRIMARY KEY, message TEXT NOT NULL)');
  await tm.execute('INSERT INTO example_accounts (id, balance) VALUES (1, 100), (2, 50)');
  const bank = new Bank(tm);

  console.log('before:', await bank.balances());
  await bank.transfer(1, 2, 30);
  await bank.transfer(2, 1, 500).catch((error: unknown) => console.log(`  refused: ${(error as Error).message}`));

  // NESTED: a failed step rolls back to its savepoint, the rest of the transaction commits.
  await tm.run(async () => {
    await tm.execute("INSERT INTO example_audit (message) VALUES ('batch started')");
    await tm
      .run(() => bank.move(1, 2, 1_000), { propagation: 'NESTED' })
      .catch((error: unknown) => console.log(`  nested step rolled back to its savepoint: ${(error as Error).message}`));
  });

  console.log('after: ', await bank.balances());
  const { rows } = await tm.execute<{ message: string }>('SELECT message FROM example_audit ORDER BY id');
  console.log(
    'audit: ',
    rows.map((r) => r.message),
  );
  console.log('metrics:', JSON.stringify({ ...tm.metrics(), durations: undefined }));
  await tm.execute('DROP TABLE example_accounts, example_audit');
} finally {
  await tm.close();
}

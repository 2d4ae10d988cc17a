import { setTimeout as sleep, setImmediate as yieldToLoop } from 'node:timers/promises';
import { lockRows, updateWithVersion } from '../../src/index.js';
import type { AnyManager, Kind } from './databases.js';

/** A transfer the strategy declined because the source lacked the funds (not an error). */
export class InsufficientFunds extends Error {}

/**
 * unsafe: the article's vulnerable check-then-act at READ COMMITTED (absolute writes);
 * pessimistic: lockRows (FOR UPDATE in id order); serializable: SERIALIZABLE + retry;
 * optimistic: updateWithVersion + retry; constraint: CHECK (balance >= 0) with atomic decrements;
 * immediate: SQLite's check-then-act, made safe by BEGIN IMMEDIATE.
 */
export type Strategy = 'unsafe' | 'pessimistic' | 'serializable' | 'optimistic' | 'constraint' | 'immediate';

export const SERVER_STRATEGIES: readonly Strategy[] = ['pessimistic', 'serializable', 'optimistic', 'constraint'];

interface Account {
  id: number;
  balance: number;
  version: number;
}

/** accounts(id, balance, version) with `count` rows of `initial`, and a ledger of committed transfers. */
export async function createBank(tm: AnyManager, kind: Kind, count: number, initial: number): Promise<void> {
  await tm.execute('DROP TABLE IF EXISTS ledger');
  await tm.execute('DROP TABLE IF EXISTS accounts');
  await tm.execute('CREATE TABLE accounts (id INT PRIMARY KEY, balance INT NOT NULL CHECK (balance >= 0), version INT NOT NULL)');
  const serial = kind === 'postgres' ? 'SERIAL PRIMARY KEY' : kind === 'mariadb' ? 'INT AUTO_INCREMENT PRIMARY KEY' : 'INTEGER PRIMARY KEY';
  await tm.execute(`CREATE TABLE ledger (n ${serial}, source INT NOT NULL, target INT NOT NULL, amount INT NOT NULL)`);
  const values = Array.from({ length: count }, (_, i) => `(${i + 1}, ${initial}, 0)`).join(', ');
  await tm.execute(`INSERT INTO accounts (id, balance, version) VALUES ${values}`);
}

function ph(tm: AnyManager, n: number): string {
  return tm.driver.placeholder(n);
}

async function read(tm: AnyManager, ids: readonly number[], lock: boolean): Promise<Map<number, Account>> {
  const rows = lock
    ? await lockRows<Account>(tm, 'accounts', ids)
    : (await tm.execute<Account>(`SELECT id, balance, version FROM accounts WHERE id IN (${ph(tm, 1)}, ${ph(tm, 2)})`, ids)).rows;
  return new Map(rows.map((r) => [Number(r.id), { id: Number(r.id), balance: Number(r.balance), version: Number(r.version) }]));
}

async function setBalance(tm: AnyManager, id: number, balance: number): Promise<void> {
  await tm.execute(`UPDATE accounts SET balance = ${ph(tm, 1)}, version = version + 1 WHERE id = ${ph(tm, 2)}`, [balance, id]);
}

async function record(tm: AnyManager, source: number, target: number, amount: number): Promise<void> {
  await tm.execute(`INSERT INTO ledger (source, target, amount) VALUES (${ph(tm, 1)}, ${ph(tm, 2)}, ${ph(tm, 3)})`, [
    source,
    target,
    amount,
  ]);
}

/**
 * Moves `amount` from `source` to `target` with one of the article's fixes. Resolves true when it
 * committed, false when declined for lack of funds.
 */
export async function transfer(
  tm: AnyManager,
  strategy: Strategy,
  source: number,
  target: number,
  amount: number,
  pause: () => Promise<void> = async () => undefined,
): Promise<boolean> {
  const body = async () => {
    if (strategy === 'constraint') {
      await pause();
      // Atomic decrement: the CHECK constraint, not a read, refuses overdrafts. Lower id first keeps lock order.
      const [a, b] =
        source < target
          ? [
              [source, -amount],
              [target, amount],
            ]
          : [
              [target, amount],
              [source, -amount],
            ];
      for (const [id, delta] of [a, b] as Array<[number, number]>) {
        await tm.execute(`UPDATE accounts SET balance = balance + ${ph(tm, 1)} WHERE id = ${ph(tm, 2)}`, [delta, id]);
      }
    } else {
      const accounts = await read(tm, [source, target], strategy === 'pessimistic');
      const from = accounts.get(source)!;
      const to = accounts.get(target)!;
      await pause();
      if (from.balance < amount) throw new InsufficientFunds();
      // Writes in id order too: two transfers in opposite directions then queue instead of deadlocking.
      const writes = [
        { account: from, balance: from.balance - amount },
        { account: to, balance: to.balance + amount },
      ].sort((a, b) => a.account.id - b.account.id);
      for (const { account, balance } of writes) {
        if (strategy === 'optimistic') {
          await updateWithVersion(tm, { table: 'accounts', id: account.id, version: account.version, set: { balance } });
        } else {
          await setBalance(tm, account.id, balance);
        }
      }
    }
    await record(tm, source, target, amount);
  };
  try {
    await tm.run(body, {
      isolation: strategy === 'serializable' ? 'SERIALIZABLE' : tm.dialect === 'sqlite' ? undefined : 'READ_COMMITTED',
      retry: { attempts: 50, baseDelayMs: 1, maxDelayMs: 50 },
    });
    return true;
  } catch (error) {
    if (error instanceof InsufficientFunds || isCheckViolation(error)) return false;
    throw error;
  }
}

/** PostgreSQL 23514, MariaDB 4025, SQLite SQLITE_CONSTRAINT_CHECK. */
export function isCheckViolation(error: unknown): boolean {
  const e = error as { code?: string; errno?: number };
  return e.code === '23514' || e.errno === 4025 || e.code === 'SQLITE_CONSTRAINT_CHECK';
}

/** A small seeded generator (mulberry32), so a failing run can be repeated. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface BankReport {
  readonly strategy: Strategy;
  readonly committed: number;
  readonly declined: number;
  readonly retries: number;
  readonly reads: number;
  /** Full reads whose total differed from the initial total, or that saw a negative balance. */
  readonly badReads: number;
  readonly finalTotal: number;
  /** Accounts whose final balance differs from initial + ledger credits - ledger debits. */
  readonly ledgerMismatches: number;
  /** Ledger rows minus transfers the client saw commit (0 when nothing was lost or invented). */
  readonly ledgerDrift: number;
  readonly seconds: number;
  readonly transfersPerSecond: number;
}

/**
 * Jepsen's bank test: `workers` loops make `transfers` random transfers between `accounts`
 * accounts while readers keep reading every balance in one read-only transaction.
 */
export async function runBank(
  tm: AnyManager,
  kind: Kind,
  strategy: Strategy,
  options: { accounts: number; initial: number; workers: number; transfers: number; readers: number; seed: number },
): Promise<BankReport> {
  const { accounts, initial, workers, transfers, readers, seed } = options;
  await createBank(tm, kind, accounts, initial);
  const random = seeded(seed);
  const total = accounts * initial;
  const retriesBefore = sumRetries(tm);
  let remaining = transfers;
  let committed = 0;
  let declined = 0;
  let reads = 0;
  let badReads = 0;
  let done = false;
  const started = performance.now();
  const worker = async () => {
    while (remaining > 0) {
      remaining -= 1;
      // better-sqlite3 never waits for I/O: without this the workers would run on microtasks alone
      // and the readers' timers would not fire until every transfer was done.
      await yieldToLoop();
      const source = 1 + Math.floor(random() * accounts);
      const target = 1 + ((source + Math.floor(random() * (accounts - 1))) % accounts);
      const amount = 1 + Math.floor(random() * 20);
      if (await transfer(tm, strategy, source, target, amount)) committed += 1;
      else declined += 1;
    }
  };
  const reader = async () => {
    while (!done) {
      const { rows } = await tm.run(() => tm.execute<{ balance: number }>('SELECT balance FROM accounts'), {
        readOnly: true,
        isolation: kind === 'sqlite' ? undefined : 'REPEATABLE_READ',
      });
      const balances = rows.map((r) => Number(r.balance));
      reads += 1;
      if (balances.length !== accounts || balances.reduce((a, b) => a + b, 0) !== total || balances.some((b) => b < 0)) badReads += 1;
      // Readers sample the state; without a pause two of them would take most of a small machine's CPU.
      await sleep(2);
    }
  };
  const readerLoops = Array.from({ length: readers }, reader);
  await Promise.all(Array.from({ length: workers }, worker));
  const seconds = (performance.now() - started) / 1000;
  done = true;
  await Promise.all(readerLoops);
  const final = (await tm.execute<{ id: number; balance: number }>('SELECT id, balance FROM accounts')).rows;
  const ledger = (await tm.execute<{ source: number; target: number; amount: number }>('SELECT source, target, amount FROM ledger')).rows;
  const expected = new Map(final.map((r) => [Number(r.id), initial]));
  for (const t of ledger) {
    expected.set(Number(t.source), (expected.get(Number(t.source)) ?? 0) - Number(t.amount));
    expected.set(Number(t.target), (expected.get(Number(t.target)) ?? 0) + Number(t.amount));
  }
  return {
    strategy,
    committed,
    declined,
    retries: sumRetries(tm) - retriesBefore,
    reads,
    badReads,
    finalTotal: final.reduce((a, r) => a + Number(r.balance), 0),
    ledgerMismatches: final.filter((r) => expected.get(Number(r.id)) !== Number(r.balance)).length,
    ledgerDrift: ledger.length - committed,
    seconds,
    transfersPerSecond: committed / seconds,
  };
}

function sumRetries(tm: AnyManager): number {
  return Object.values(tm.metrics().retries).reduce((a, b) => a + (b ?? 0), 0);
}

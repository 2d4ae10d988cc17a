// Benchmarks for @myrmex/tx: the cost of tm.run over raw pg, and transfers/s under contention per
// strategy (the Jepsen-style bank at full size). Sizes: TX_BENCH_ITERATIONS, TX_BENCH_TRANSFERS.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { pgDriver, TransactionManager } from '../src/index.js';
import { type BankReport, runBank, SERVER_STRATEGIES, type Strategy } from '../test/support/bank.js';
import { freshSqliteFile, type Kind, openManager, targets } from '../test/support/databases.js';
import { groupedBarChart } from './svg.js';

const ITERATIONS = Number(process.env.TX_BENCH_ITERATIONS ?? 1000);
const TRANSFERS = Number(process.env.TX_BENCH_TRANSFERS ?? 5000);
const ROUNDS = 4;
const docs = fileURLToPath(new URL('../../../docs/', import.meta.url));

async function overhead(url: string): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  const tm = new TransactionManager(pgDriver(pool));
  await pool.query('CREATE TABLE IF NOT EXISTS bench_t (id INT PRIMARY KEY, n INT NOT NULL)');
  await pool.query('INSERT INTO bench_t (id, n) VALUES (1, 0) ON CONFLICT DO NOTHING');
  // The same three statements either way: an insert, an update, a read.
  const statements = async (client: pg.PoolClient | pg.Pool, i: number) => {
    await client.query('INSERT INTO bench_t (id, n) VALUES ($1, 0)', [i + 10]);
    await client.query('UPDATE bench_t SET n = n + 1 WHERE id = 1');
    await client.query('SELECT n FROM bench_t WHERE id = 1');
  };
  const raw = async (i: number) => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await statements(client, i);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    } finally {
      client.release();
    }
  };
  const managed = (i: number) => tm.run(() => statements(tm.db(), i));
  let next = 0;
  const time = async (fn: (i: number) => Promise<void>) => {
    await pool.query('DELETE FROM bench_t WHERE id > 1');
    const started = performance.now();
    for (let i = 0; i < ITERATIONS; i++) await fn(next++);
    return (performance.now() - started) / ITERATIONS;
  };
  await time(raw);
  await time(managed);
  const results = { raw: [] as number[], managed: [] as number[] };
  // Alternate rounds so drift in the machine's load hits both sides alike.
  for (let r = 0; r < ROUNDS; r++) {
    results.raw.push(await time(raw));
    results.managed.push(await time(managed));
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const rawMs = median(results.raw);
  const managedMs = median(results.managed);
  console.log(
    `\n## tm.run vs raw pg, three-statement transaction, ${ITERATIONS} sequential transactions x ${ROUNDS} rounds (median round)`,
  );
  console.log('| variant | µs per transaction | transactions/s |');
  console.log('|---|---:|---:|');
  console.log(`| raw pg (BEGIN; 3 statements; COMMIT) | ${(rawMs * 1000).toFixed(0)} | ${Math.round(1000 / rawMs)} |`);
  console.log(`| tm.run | ${(managedMs * 1000).toFixed(0)} | ${Math.round(1000 / managedMs)} |`);
  console.log(
    `ratio tm.run / raw = ${(managedMs / rawMs).toFixed(3)}; overhead ${((managedMs - rawMs) * 1000).toFixed(0)} µs per transaction`,
  );
  console.log(
    `rounds raw: ${results.raw.map((v) => (v * 1000).toFixed(0)).join(', ')} µs; tm.run: ${results.managed.map((v) => (v * 1000).toFixed(0)).join(', ')} µs`,
  );
  await tm.close();
}

async function bank(): Promise<void> {
  const rows: Array<BankReport & { kind: Kind }> = [];
  for (const target of targets) {
    const db = target.kind === 'sqlite' ? await freshSqliteFile() : await target.fresh();
    const opened = openManager(target.kind, db.url, { max: 10 });
    const strategies: readonly Strategy[] = target.kind === 'sqlite' ? ['immediate'] : ['unsafe', ...SERVER_STRATEGIES];
    try {
      for (const strategy of strategies) {
        const report = await runBank(opened.tm, target.kind, strategy, {
          accounts: 10,
          initial: 100,
          workers: 8,
          readers: 2,
          transfers: TRANSFERS,
          seed: 20261125,
        });
        rows.push({ ...report, kind: target.kind });
        console.error(`${target.kind} ${strategy}: ${Math.round(report.transfersPerSecond)} transfers/s`);
      }
    } finally {
      await opened.close();
      await db.dispose();
    }
  }
  console.log(`\n## bank: 10 accounts, 8 workers, 2 readers, ${TRANSFERS} transfers per strategy`);
  console.log(
    '| database | strategy | committed | declined | retries | full reads | bad reads | final total | ledger mismatches | seconds | transfers/s |',
  );
  console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(
      `| ${r.kind} | ${r.strategy} | ${r.committed} | ${r.declined} | ${r.retries} | ${r.reads} | ${r.badReads} | ${r.finalTotal} | ${r.ledgerMismatches} | ${r.seconds.toFixed(2)} | ${Math.round(r.transfersPerSecond)} |`,
    );
  }
  const groups = [...new Set(rows.map((r) => r.kind))].map((kind) => ({
    label: kind,
    bars: rows.filter((r) => r.kind === kind).map((r) => ({ label: r.strategy, value: r.transfersPerSecond })),
  }));
  const svg = groupedBarChart(
    `Committed transfers/s under contention (${TRANSFERS} transfers, 8 workers, 10 accounts)`,
    'transfers/s',
    groups,
  );
  writeFileSync(join(docs, 'tx-bank-throughput.svg'), svg);
  console.log('\nplot: docs/tx-bank-throughput.svg');
}

const pgTarget = targets.find((t) => t.kind === 'postgres')!;
const pgDb = await pgTarget.fresh();
try {
  await overhead(pgDb.url);
} finally {
  await pgDb.dispose();
}
await bank();

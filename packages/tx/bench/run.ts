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
  const once = async (fn: (i: number) => Promise<void>, i: number) => {
    const started = performance.now();
    await fn(i);
    return performance.now() - started;
  };
  for (let i = 0; i < 100; i++) await Promise.all([raw(-i - 1000), managed(-i - 2000)]);
  await pool.query('DELETE FROM bench_t WHERE id <> 1');
  // Pairs, alternating which side goes first, so load from the rest of the machine hits both alike.
  const rawMs: number[] = [];
  const managedMs: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    if (i % 2 === 0) {
      rawMs.push(await once(raw, 2 * i + 10));
      managedMs.push(await once(managed, 2 * i + 11));
    } else {
      managedMs.push(await once(managed, 2 * i + 11));
      rawMs.push(await once(raw, 2 * i + 10));
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const differences = rawMs.map((r, i) => managedMs[i]! - r);
  console.log(`\n## tm.run vs raw pg, three-statement transaction, ${ITERATIONS} interleaved pairs`);
  console.log('| variant | median µs | mean µs | transactions/s (from mean) |');
  console.log('|---|---:|---:|---:|');
  for (const [name, values] of [
    ['raw pg (connect; BEGIN; 3 statements; COMMIT; release)', rawMs],
    ['tm.run (same statements through tm.db())', managedMs],
  ] as const) {
    console.log(
      `| ${name} | ${(median(values) * 1000).toFixed(0)} | ${(mean(values) * 1000).toFixed(0)} | ${Math.round(1000 / mean(values))} |`,
    );
  }
  console.log(
    `ratio of medians tm.run / raw = ${(median(managedMs) / median(rawMs)).toFixed(3)}; median per-pair overhead ${(median(differences) * 1000).toFixed(0)} µs`,
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

// A coordinator in its own process that kills itself (SIGKILL) at one phase of a transfer:
//   coordinator-child.ts <pgUrl> <mysqlUrl> <logFile> <phase: prepared|decided>
import Database from 'better-sqlite3';
import * as mysql from 'mysql2/promise';
import pg from 'pg';
import { sqliteDriver, TransactionManager } from '../../src/index.js';
import { mysqlParticipant, pgParticipant, TwoPhaseCoordinator } from '../../src/xa/index.js';

const [pgUrl, mysqlUrl, logFile, phase] = process.argv.slice(2) as [string, string, string, string];
const log = new TransactionManager(sqliteDriver({ open: () => new Database(logFile) })) as TransactionManager<unknown, unknown>;
const coordinator = new TwoPhaseCoordinator({
  log,
  participants: {
    pg: pgParticipant(new pg.Pool({ connectionString: pgUrl, max: 2 })),
    maria: mysqlParticipant(mysql.createPool({ uri: mysqlUrl, connectionLimit: 2 })),
  },
  prefix: 'crash',
  onPhase: (at) => {
    if (at === phase) process.kill(process.pid, 'SIGKILL');
  },
});
await coordinator.ensureSchema();
await coordinator.run(async ({ pg: a, maria: b }) => {
  await a!.query(`UPDATE accounts SET balance = balance - 10 WHERE id = 1`);
  await b!.query(`UPDATE accounts SET balance = balance + 10 WHERE id = 1`);
});
process.exit(3); // never reached the phase

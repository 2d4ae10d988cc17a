// A saga runner in its own process that kills itself (SIGKILL, as kill -9) at one point:
//   crash-child.ts <kind> <url> <sagaId> <point> <carFails 0|1>
// <point> is "<transition kind>:<step>" (a boundary: the transition is committed) or
// "inside:<step>" / "inside-compensate:<step>" (the vendor call happened, the step is not marked done).
import Database from 'better-sqlite3';
import * as mysql2 from 'mysql2/promise';
import pg from 'pg';
import { mysqlDriver, pgDriver, sqliteDriver, TransactionManager } from '../../src/index.js';
import { SagaRunner, SagaStore } from '../../src/saga/index.js';
import type { AnyManager } from '../support/databases.js';
import { createVendor, trip } from './trip.js';

// Not support/databases.ts: its service gates probe every server at import, a cost paid per child.
const [kind, url, sagaId, point, carFails] = process.argv.slice(2) as [string, string, string, string, string];
const tm = (
  kind === 'postgres'
    ? new TransactionManager(pgDriver(new pg.Pool({ connectionString: url, max: 4 })))
    : kind === 'mariadb'
      ? new TransactionManager(mysqlDriver(mysql2.createPool({ uri: url, connectionLimit: 4 })))
      : new TransactionManager(sqliteDriver({ open: () => new Database(url) }))
) as AnyManager;
const die = (at: string) => {
  if (at === point) process.kill(process.pid, 'SIGKILL');
};
const store = new SagaStore(tm);
await store.ensureSchema();
await createVendor(tm);
const runner = new SagaRunner({
  store,
  sagas: [trip(tm, { carFails: carFails === '1', inside: die })],
  leaseMs: 300,
  onTransition: (notice) => die(`${notice.kind}:${notice.step ?? ''}`),
});
const outcome = await runner.start('trip', { id: sagaId });
process.stdout.write(`${JSON.stringify(outcome)}\n`);
process.exit(3); // the point was never reached: the test fails on this exit code

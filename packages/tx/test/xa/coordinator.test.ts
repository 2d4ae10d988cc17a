import { freshAll, mysql as mysqlGate, postgres as pgGate } from '@myrmex/test-utils';
import Database from 'better-sqlite3';
import * as mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sqliteDriver, TransactionManager } from '../../src/index.js';
import { InDoubtError, mysqlParticipant, pgParticipant, TwoPhaseCoordinator } from '../../src/xa/index.js';
import { bundledChild, runUntilKilled } from '../support/child.js';
import { freshSqliteFile } from '../support/databases.js';

const pgs = await pgGate();
const mys = await mysqlGate();
const child = bundledChild(new URL('./coordinator-child.ts', import.meta.url));
// Both servers are needed; each gate skips loudly (fails under CI) when its server is missing.
const both = (name: string, body: () => void) => pgs.describe(name, () => mys.describe(name, body));

both('two-phase commit across PostgreSQL and MariaDB', () => {
  const pgDb = freshAll(() => pgs.freshDatabase());
  const myDb = freshAll(() => mys.freshDatabase());
  const logFile = freshAll(freshSqliteFile);
  let pgPool: pg.Pool;
  let myPool: mysql.Pool;
  let log: TransactionManager<unknown, unknown>;
  let coordinator: TwoPhaseCoordinator;
  beforeAll(async () => {
    pgPool = new pg.Pool({ connectionString: pgDb.current.url, max: 4 });
    myPool = mysql.createPool({ uri: myDb.current.url, connectionLimit: 4 });
    log = new TransactionManager(sqliteDriver({ open: () => new Database(logFile.current.url) })) as TransactionManager<unknown, unknown>;
    coordinator = new TwoPhaseCoordinator({
      log,
      participants: { pg: pgParticipant(pgPool), maria: mysqlParticipant(myPool) },
      prefix: 'crash',
    });
    await coordinator.ensureSchema();
    await pgPool.query('CREATE TABLE accounts (id INT PRIMARY KEY, balance INT NOT NULL CHECK (balance >= 0))');
    await myPool.query('CREATE TABLE accounts (id INT PRIMARY KEY, balance INT NOT NULL)');
  });
  afterAll(async () => {
    // Never leave a prepared transaction behind: it would hold locks in the shared servers.
    await coordinator.recover().catch(() => undefined);
    await pgPool.end();
    await myPool.end();
    await log.close();
  });
  beforeEach(async () => {
    await pgPool.query('DELETE FROM accounts');
    await pgPool.query('INSERT INTO accounts VALUES (1, 100)');
    await myPool.query('DELETE FROM accounts');
    await myPool.query('INSERT INTO accounts VALUES (1, 0)');
  });
  const balances = async () => {
    const a = (await pgPool.query<{ balance: number }>('SELECT balance FROM accounts WHERE id = 1')).rows[0]?.balance;
    const [rows] = await myPool.query('SELECT balance FROM accounts WHERE id = 1');
    return [Number(a), Number((rows as Array<{ balance: number }>)[0]?.balance)];
  };
  const transfer = (amount: number) =>
    coordinator.run(async ({ pg: a, maria: b }) => {
      await a!.query('UPDATE accounts SET balance = balance - $1 WHERE id = 1', [amount]);
      await b!.query('UPDATE accounts SET balance = balance + ? WHERE id = 1', [amount]);
      return amount;
    });
  const inDoubt = async () => [
    ...(await pgParticipant(pgPool).prepared()).filter((x) => x.startsWith('crash-')),
    ...(await mysqlParticipant(myPool).prepared()).filter((x) => x.startsWith('crash-')),
  ];

  it('commits both branches, or neither when one fails (a CHECK in PostgreSQL refuses the overdraft)', async () => {
    expect(await transfer(30)).toBe(30);
    expect(await balances()).toEqual([70, 30]);
    await expect(transfer(500)).rejects.toThrow(/check/i);
    expect(await balances()).toEqual([70, 30]);
    expect(await inDoubt()).toEqual([]);
  });

  it('coordinator killed after the commit decision: recovery commits both in-doubt branches', async () => {
    await runUntilKilled(child, [pgDb.current.url, myDb.current.url, logFile.current.url, 'decided']);
    expect((await inDoubt()).length).toBe(2);
    // Prepared but not committed: nothing visible yet, on either side.
    expect(await balances()).toEqual([100, 0]);
    const recovered = await coordinator.recover();
    expect({ committed: recovered.committed.length, rolledBack: recovered.rolledBack.length }).toEqual({ committed: 2, rolledBack: 0 });
    expect(await balances()).toEqual([90, 10]);
    expect(await inDoubt()).toEqual([]);
  });

  it('coordinator killed after prepare, before deciding: recovery rolls both back (presumed abort)', async () => {
    await runUntilKilled(child, [pgDb.current.url, myDb.current.url, logFile.current.url, 'prepared']);
    expect((await inDoubt()).length).toBe(2);
    const recovered = await coordinator.recover();
    expect({ committed: recovered.committed.length, rolledBack: recovered.rolledBack.length }).toEqual({ committed: 0, rolledBack: 2 });
    expect(await balances()).toEqual([100, 0]);
    expect(await inDoubt()).toEqual([]);
  });

  it('a recovery that aborts first wins over a coordinator about to decide commit', async () => {
    const racing = new TwoPhaseCoordinator({
      log,
      participants: { pg: pgParticipant(pgPool), maria: mysqlParticipant(myPool) },
      prefix: 'crash',
      onPhase: async (phase) => {
        if (phase === 'prepared') await coordinator.recover();
      },
    });
    const work = racing.run(async ({ pg: a, maria: b }) => {
      await a!.query('UPDATE accounts SET balance = 1 WHERE id = 1');
      await b!.query('UPDATE accounts SET balance = 1 WHERE id = 1');
    });
    await expect(work).rejects.toThrow(/aborted by a recovery/);
    expect(await balances()).toEqual([100, 0]);
    expect(await inDoubt()).toEqual([]);
  });

  it('a branch that cannot commit after the decision surfaces as InDoubtError; recovery finishes it', async () => {
    let broken = true;
    const maria = mysqlParticipant(myPool);
    const flaky = {
      ...maria,
      commitPrepared: (xid: string) => (broken ? Promise.reject(new Error('connection lost')) : maria.commitPrepared(xid)),
    };
    const c = new TwoPhaseCoordinator({ log, participants: { pg: pgParticipant(pgPool), maria: flaky }, prefix: 'crash' });
    const error = await c
      .run(async ({ pg: a, maria: b }) => {
        await a!.query('UPDATE accounts SET balance = balance - 5 WHERE id = 1');
        await b!.query('UPDATE accounts SET balance = balance + 5 WHERE id = 1');
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InDoubtError);
    broken = false;
    expect((await c.recover()).committed).toHaveLength(1);
    expect(await balances()).toEqual([95, 5]);
  });
});

describe('two-phase commit input', () => {
  it('names what is wrong', () => {
    expect(() => pgParticipant({} as never)).toThrow(/pg Pool/);
    expect(() => mysqlParticipant(null as never)).toThrow(/mysql2/);
    expect(() => new TwoPhaseCoordinator({ log: {} as never, participants: {} })).toThrow(/options.log/);
  });
});

import type { Pool, PoolClient } from 'pg';
import { UnexpectedRollbackError } from '../core/errors.js';
import { Checkouts, type Driver, ISOLATION_SQL, type QueryResult } from './driver.js';

/** Driver over a node-postgres Pool. `db()` yields the transaction's PoolClient, or the Pool. */
export function pgDriver(pool: Pool): Driver<PoolClient, Pool> {
  if (pool === null || typeof pool !== 'object' || typeof (pool as Pool).connect !== 'function') {
    throw new TypeError('pgDriver(pool): pool must be a pg Pool');
  }
  const checkouts = new Checkouts();
  const pids = new WeakMap<PoolClient, number>();
  const max = (pool as Pool & { options: { max?: number } }).options.max ?? 10;
  const simple = async (client: PoolClient, sql: string) => {
    await client.query(sql);
  };
  return {
    dialect: 'postgres',
    pool,
    maxConnections: max,
    get checkedOut() {
      return checkouts.count;
    },
    singleWriter: false,
    async acquire() {
      const client = await pool.connect();
      checkouts.taken();
      return client;
    },
    async release(client, discard) {
      checkouts.returned();
      client.release(discard ? new Error('discarded by @myrmex/tx') : undefined);
    },
    async begin(client, spec) {
      const isolation = spec.isolation === undefined ? '' : ` ISOLATION LEVEL ${ISOLATION_SQL[spec.isolation]}`;
      const access = spec.readOnly ? ' READ ONLY' : ' READ WRITE';
      // The backend pid is needed to cancel a statement on timeout; read it once per connection.
      const pid = pids.has(client) ? '' : '; SELECT pg_backend_pid() AS pid';
      // SET LOCAL ends with the transaction, so a pooled connection keeps no timeout afterwards.
      const timeout = spec.timeoutMs === undefined ? '' : `; SET LOCAL statement_timeout = ${spec.timeoutMs}`;
      const results = await client.query(`BEGIN${isolation}${access}${timeout}${pid}`);
      if (pid !== '') {
        const last = (Array.isArray(results) ? results[results.length - 1] : results) as { rows: Array<{ pid: number }> };
        pids.set(client, Number(last.rows[0]?.pid));
      }
    },
    async commit(client) {
      // COMMIT of a transaction an earlier error aborted answers ROLLBACK without an error.
      const result = await client.query('COMMIT');
      if (result.command === 'ROLLBACK')
        throw new UnexpectedRollbackError('PostgreSQL rolled back at COMMIT: an earlier statement failed and aborted the transaction');
    },
    rollback: (client) => simple(client, 'ROLLBACK'),
    savepoint: (client, name) => simple(client, `SAVEPOINT ${name}`),
    releaseSavepoint: (client, name) => simple(client, `RELEASE SAVEPOINT ${name}`),
    rollbackToSavepoint: (client, name) => simple(client, `ROLLBACK TO SAVEPOINT ${name}`),
    async abort(client) {
      const pid = pids.get(client);
      if (pid === undefined) return;
      // A separate connection: the pool may be exhausted, and the stuck one is busy.
      const Client = (pool as Pool & { Client: new (options: unknown) => import('pg').Client }).Client;
      const canceller = new Client((pool as Pool & { options: unknown }).options);
      canceller.on('error', () => undefined);
      try {
        await canceller.connect();
        await canceller.query('SELECT pg_cancel_backend($1)', [pid]);
      } finally {
        await canceller.end().catch(() => undefined);
      }
    },
    async query<Row>(target: PoolClient | Pool, sql: string, params: readonly unknown[] = []): Promise<QueryResult<Row>> {
      const result = await target.query(sql, params as unknown[]);
      return { rows: result.rows as Row[], rowCount: result.rowCount ?? result.rows.length };
    },
    placeholder: (position) => `$${position}`,
    quoteIdentifier: (identifier) =>
      identifier
        .split('.')
        .map((part) => `"${part}"`)
        .join('.'),
    isStatementTimeout: (error) => (error as { code?: unknown } | null)?.code === '57014',
    close: () => pool.end(),
  };
}

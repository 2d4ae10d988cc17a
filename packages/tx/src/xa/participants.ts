import type { Pool as MysqlPool, PoolConnection } from 'mysql2/promise';
import type { Pool as PgPool, PoolClient } from 'pg';

/** A connection inside one branch of a global transaction: run the branch's statements on it. */
export interface Branch {
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
}

/**
 * One resource manager of a two-phase commit: a database that can prepare a transaction, survive
 * a disconnect (or a crash) with it prepared, and commit or roll it back later from any connection.
 */
export interface Participant {
  readonly kind: 'postgres' | 'mariadb';
  /** Starts the branch `xid` on a connection of its own. */
  begin(xid: string): Promise<OpenBranch>;
  /** Branch ids prepared and not yet resolved (in-doubt), whoever prepared them. */
  prepared(): Promise<string[]>;
  commitPrepared(xid: string): Promise<void>;
  rollbackPrepared(xid: string): Promise<void>;
}

export interface OpenBranch extends Branch {
  /** Phase one: after it, the branch survives the connection and the coordinator. */
  prepare(): Promise<void>;
  /** Before prepare: abandon the branch. */
  rollback(): Promise<void>;
  /** Returns the connection (after prepare it no longer holds the branch). */
  release(): void;
}

const XID = /^[A-Za-z0-9_.:-]{1,64}$/;

export function checkXid(xid: string): string {
  if (!XID.test(xid)) throw new TypeError(`transaction id must be 1-64 letters, digits, "_", ".", ":" or "-", got ${JSON.stringify(xid)}`);
  return xid;
}

/** PostgreSQL: BEGIN ... PREPARE TRANSACTION; needs max_prepared_transactions > 0. */
export function pgParticipant(pool: PgPool): Participant {
  if (pool === null || typeof pool !== 'object' || typeof pool.connect !== 'function')
    throw new TypeError('pgParticipant(pool): expected a pg Pool');
  const once = async (sql: string) => {
    await pool.query(sql);
  };
  return {
    kind: 'postgres',
    async begin(xid) {
      checkXid(xid);
      const client: PoolClient = await pool.connect();
      let done = false;
      try {
        await client.query('BEGIN');
      } catch (error) {
        client.release(true);
        throw error;
      }
      return {
        query: async (sql, params = []) => (await client.query(sql, params as unknown[])).rows,
        async prepare() {
          const result = await client.query(`PREPARE TRANSACTION '${xid}'`);
          // An aborted transaction answers PREPARE with ROLLBACK and no error.
          if (result.command === 'ROLLBACK')
            throw new Error(`PostgreSQL rolled back branch ${xid} at PREPARE: an earlier statement failed`);
        },
        rollback: () => client.query('ROLLBACK').then(() => undefined),
        release() {
          if (done) return;
          done = true;
          client.release();
        },
      };
    },
    async prepared() {
      const { rows } = await pool.query<{ gid: string }>('SELECT gid FROM pg_prepared_xacts WHERE database = current_database()');
      return rows.map((r) => r.gid);
    },
    commitPrepared: (xid) => once(`COMMIT PREPARED '${checkXid(xid)}'`),
    rollbackPrepared: (xid) => once(`ROLLBACK PREPARED '${checkXid(xid)}'`),
  };
}

/** MariaDB (10.5+, which keeps prepared XA transactions across disconnects) and MySQL: XA START ... XA PREPARE. */
export function mysqlParticipant(pool: MysqlPool): Participant {
  if (pool === null || typeof pool !== 'object' || typeof pool.getConnection !== 'function')
    throw new TypeError('mysqlParticipant(pool): expected a mysql2/promise Pool');
  const once = async (sql: string) => {
    await pool.query(sql);
  };
  return {
    kind: 'mariadb',
    async begin(xid) {
      checkXid(xid);
      const connection: PoolConnection = await pool.getConnection();
      let done = false;
      let prepared = false;
      try {
        await connection.query(`XA START '${xid}'`);
      } catch (error) {
        connection.destroy();
        throw error;
      }
      return {
        query: async <Row>(sql: string, params: readonly unknown[] = []) => {
          const [rows] = await connection.query(sql, params as unknown[]);
          return (Array.isArray(rows) ? rows : []) as Row[];
        },
        async prepare() {
          await connection.query(`XA END '${xid}'`);
          await connection.query(`XA PREPARE '${xid}'`);
          prepared = true;
        },
        async rollback() {
          await connection.query(`XA END '${xid}'`).catch(() => undefined);
          await connection.query(`XA ROLLBACK '${xid}'`);
        },
        release() {
          if (done) return;
          done = true;
          // A prepared XA branch stays tied to its session while it lives, and another session's
          // XA COMMIT then fails with XAER_NOTA: disconnecting detaches it (MariaDB 10.5+ keeps it).
          if (prepared) connection.destroy();
          else connection.release();
        },
      };
    },
    async prepared() {
      const [rows] = await pool.query('XA RECOVER');
      return (rows as Array<{ data: string | Buffer; gtrid_length: number }>).map((r) => String(r.data).slice(0, Number(r.gtrid_length)));
    },
    commitPrepared: (xid) => once(`XA COMMIT '${checkXid(xid)}'`),
    rollbackPrepared: (xid) => once(`XA ROLLBACK '${checkXid(xid)}'`),
  };
}

import type { Pool, PoolClient } from 'pg';
import type { Lease } from '../core/lease.js';
import type { ResponseInput } from '../core/policy.js';
import type { ClaimRequest, ClaimResult, CompleteRequest, IdempotencyStore, KeyRecord, StoredResponse } from '../core/types.js';
import { claimable } from './rules.js';
import { CLAIM_ATTEMPTS, type KeyRow, recordFromRow, tableName } from './sql.js';

export interface PostgresStoreOptions {
  /** A pg Pool; the store does not end it. */
  readonly pool: Pool;
  /** Default `idempotency_keys`. */
  readonly table?: string;
}

type Queryable = Pick<PoolClient, 'query'>;
type ClaimRow = KeyRow & { readonly outcome: 'claimed' | 'exists'; readonly generation: number | null };

/**
 * Keys in a PostgreSQL table, shared by any number of processes. A claim is one
 * `INSERT ... ON CONFLICT DO UPDATE ... WHERE` (the WHERE admits only expired records), so two
 * claimants can never both win; completion and release are UPDATE/DELETE guarded by the token.
 */
export class PostgresStore implements IdempotencyStore {
  private readonly pool: Pool;
  private readonly table: string;
  private readonly sql: ReturnType<typeof statements>;

  constructor(options: PostgresStoreOptions) {
    if (options === null || typeof options !== 'object' || typeof options.pool?.query !== 'function') {
      throw new TypeError('PostgresStore: options.pool must be a pg Pool');
    }
    this.pool = options.pool;
    this.table = tableName(options.table, 'idempotency_keys');
    this.sql = statements(this.table);
  }

  /** Creates the table if absent. Safe when several processes start at once (advisory lock). */
  async ensureSchema(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`myrmex-idempotency:${this.table}`]);
      await client.query(`
        CREATE TABLE IF NOT EXISTS ${this.table} (
          scope text PRIMARY KEY,
          fingerprint text NOT NULL,
          state text NOT NULL CHECK (state IN ('pending', 'completed')),
          token text,
          lease_expires_at bigint,
          expires_at bigint NOT NULL,
          generation integer NOT NULL DEFAULT 0,
          status integer,
          headers text,
          body bytea
        )`);
      await client.query(`CREATE INDEX IF NOT EXISTS ${this.table}_expires ON ${this.table} (expires_at)`);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
      const row = (
        await this.pool.query<ClaimRow>(this.sql.claim, [
          request.scope,
          request.fingerprint,
          request.token,
          request.leaseExpiresAt,
          request.expiresAt,
          request.now,
        ])
      ).rows[0];
      if (row?.outcome === 'claimed') return { outcome: 'claimed', reclaimed: Number(row.generation) > 0 };
      // The snapshot row that made the insert stand down is the answer, unless it was itself
      // claimable and a concurrent claim got in first: then the claim is simply tried again.
      if (row) {
        const record = recordFromRow(row);
        if (!claimable(record, request)) return { outcome: 'exists', record };
      }
    }
    throw new Error(`claim on ${request.scope} kept racing with other claims and releases (${CLAIM_ATTEMPTS} attempts)`);
  }

  async heartbeat(scope: string, token: string, leaseExpiresAt: number): Promise<boolean> {
    return ((await this.pool.query(this.sql.heartbeat, [scope, token, leaseExpiresAt])).rowCount ?? 0) === 1;
  }

  async complete(request: CompleteRequest): Promise<boolean> {
    return this.completeOn(this.pool, request);
  }

  async release(scope: string, token: string): Promise<boolean> {
    return ((await this.pool.query(this.sql.release, [scope, token])).rowCount ?? 0) === 1;
  }

  async get(scope: string, now: number): Promise<KeyRecord | undefined> {
    const row = (await this.pool.query<KeyRow>(this.sql.get, [scope])).rows[0];
    return row && Number(row.expires_at) > now ? recordFromRow(row) : undefined;
  }

  async sweep(now: number): Promise<number> {
    return (await this.pool.query(this.sql.sweep, [now])).rowCount ?? 0;
  }

  async close(): Promise<void> {}

  /**
   * Atomic mode: runs `work` on one client inside a transaction and writes the key's
   * completion in that same transaction. Either the business writes and the stored response
   * commit together, or neither does and the key is released for a retry. A completion whose
   * lease was taken over rolls everything back and throws StaleLeaseError.
   */
  async atomic<R extends ResponseInput>(lease: Lease | undefined, work: (client: PoolClient) => Promise<R>): Promise<R | StoredResponse> {
    const client = await this.pool.connect();
    let committed = false;
    try {
      await client.query('BEGIN');
      const response = await work(client);
      if (lease) {
        const completion = lease.prepare(response);
        const applied = await this.completeOn(client, completion);
        if (!applied) {
          await client.query('ROLLBACK');
          lease.confirm(false);
        }
        await client.query('COMMIT');
        committed = true;
        lease.confirm(true);
        return completion.response;
      }
      await client.query('COMMIT');
      committed = true;
      return response;
    } catch (error) {
      if (!committed) {
        await client.query('ROLLBACK').catch(() => undefined);
        await lease?.release().catch(() => undefined);
      }
      throw error;
    } finally {
      client.release();
    }
  }

  private async completeOn(db: Queryable, request: CompleteRequest): Promise<boolean> {
    const { response } = request;
    const result = await db.query(this.sql.complete, [
      request.scope,
      request.token,
      request.expiresAt,
      response.status,
      JSON.stringify(response.headers),
      response.body,
    ]);
    return (result.rowCount ?? 0) === 1;
  }
}

function statements(t: string) {
  return {
    // One statement. A live record seen in the snapshot answers directly, with no write and no
    // row lock (replays of a hot key do not queue). Otherwise the INSERT decides atomically:
    // ON CONFLICT takes over only a record whose retention ended, or a pending one whose lease
    // lapsed for the same request.
    claim: `
      WITH existing AS (
        SELECT fingerprint, state, lease_expires_at, expires_at, status, headers, body FROM ${t} WHERE scope = $1
      ), claimed AS (
        INSERT INTO ${t} AS k (scope, fingerprint, state, token, lease_expires_at, expires_at, generation)
        SELECT $1, $2, 'pending', $3, $4, $5, 0
        WHERE NOT EXISTS (
          SELECT 1 FROM existing e
          WHERE e.expires_at > $6 AND NOT (e.state = 'pending' AND e.lease_expires_at <= $6 AND e.fingerprint = $2)
        )
        ON CONFLICT (scope) DO UPDATE SET
          fingerprint = excluded.fingerprint, state = 'pending', token = excluded.token,
          lease_expires_at = excluded.lease_expires_at, expires_at = excluded.expires_at,
          generation = k.generation + 1, status = NULL, headers = NULL, body = NULL
        WHERE k.expires_at <= $6
           OR (k.state = 'pending' AND k.lease_expires_at <= $6 AND k.fingerprint = excluded.fingerprint)
        RETURNING generation
      )
      SELECT 'claimed' AS outcome, generation, NULL AS fingerprint, NULL AS state, NULL::bigint AS lease_expires_at,
             NULL::bigint AS expires_at, NULL::integer AS status, NULL AS headers, NULL::bytea AS body
        FROM claimed
      UNION ALL
      SELECT 'exists', NULL, e.fingerprint, e.state, e.lease_expires_at, e.expires_at, e.status, e.headers, e.body
        FROM existing e WHERE NOT EXISTS (SELECT 1 FROM claimed)`,
    get: `SELECT fingerprint, state, lease_expires_at, expires_at, status, headers, body FROM ${t} WHERE scope = $1`,
    heartbeat: `UPDATE ${t} SET lease_expires_at = $3 WHERE scope = $1 AND state = 'pending' AND token = $2`,
    complete: `
      UPDATE ${t} SET state = 'completed', token = NULL, lease_expires_at = NULL, expires_at = $3,
        status = $4, headers = $5, body = $6
      WHERE scope = $1 AND state = 'pending' AND token = $2`,
    release: `DELETE FROM ${t} WHERE scope = $1 AND state = 'pending' AND token = $2`,
    sweep: `DELETE FROM ${t} WHERE expires_at <= $1`,
  };
}

import type { Database } from 'better-sqlite3';
import type { Lease } from '../core/lease.js';
import type { ResponseInput } from '../core/policy.js';
import type { ClaimRequest, ClaimResult, CompleteRequest, IdempotencyStore, KeyRecord, StoredResponse } from '../core/types.js';
import { claimable } from './rules.js';
import { type KeyRow, recordFromRow, tableName } from './sql.js';

export interface SqliteStoreOptions {
  /** An open better-sqlite3 database; the store neither opens nor closes it. */
  readonly database: Database;
  /** Default `idempotency_keys`. */
  readonly table?: string;
}

/**
 * Keys in a SQLite table. Several processes may share the file: each claim is one upsert in an
 * IMMEDIATE transaction, which SQLite serialises across processes. WAL mode is recommended.
 */
export class SqliteStore implements IdempotencyStore {
  private readonly db: Database;
  private readonly table: string;
  private readonly statements: ReturnType<SqliteStore['prepare']>;
  private readonly claimTransaction: (request: ClaimRequest) => ClaimResult;

  constructor(options: SqliteStoreOptions) {
    if (options === null || typeof options !== 'object' || typeof options.database?.prepare !== 'function') {
      throw new TypeError('SqliteStore: options.database must be an open better-sqlite3 Database');
    }
    this.db = options.database;
    this.table = tableName(options.table, 'idempotency_keys');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS ${this.table} (
        scope TEXT PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        state TEXT NOT NULL,
        token TEXT,
        lease_expires_at INTEGER,
        expires_at INTEGER NOT NULL,
        generation INTEGER NOT NULL DEFAULT 0,
        status INTEGER,
        headers TEXT,
        body BLOB
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS ${this.table}_expires ON ${this.table} (expires_at);
    `);
    this.statements = this.prepare();
    const transaction = this.db.transaction((request: ClaimRequest): ClaimResult => {
      const claimed = this.statements.claim.get(request) as { generation: number } | undefined;
      if (claimed) return { outcome: 'claimed', reclaimed: claimed.generation > 0 };
      // The upsert's WHERE refused: the row is live, and this transaction's write lock keeps it so.
      return { outcome: 'exists', record: recordFromRow(this.statements.get.get(request.scope) as KeyRow) };
    });
    this.claimTransaction = (request) => transaction.immediate(request);
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    // A live record answers without taking the write lock, so replays of a hot key do not queue
    // behind each other. Only the write decides that a request executes.
    const row = this.statements.get.get(request.scope) as KeyRow | undefined;
    if (row) {
      const record = recordFromRow(row);
      if (!claimable(record, request)) return { outcome: 'exists', record };
    }
    return this.claimTransaction(request);
  }

  async heartbeat(scope: string, token: string, leaseExpiresAt: number): Promise<boolean> {
    return this.statements.heartbeat.run({ scope, token, leaseExpiresAt }).changes === 1;
  }

  async complete(request: CompleteRequest): Promise<boolean> {
    return this.completeSync(request);
  }

  async release(scope: string, token: string): Promise<boolean> {
    return this.statements.release.run({ scope, token }).changes === 1;
  }

  async get(scope: string, now: number): Promise<KeyRecord | undefined> {
    const row = this.statements.get.get(scope) as (KeyRow & { expires_at: number }) | undefined;
    return row && row.expires_at > now ? recordFromRow(row) : undefined;
  }

  async sweep(now: number): Promise<number> {
    return this.statements.sweep.run({ now }).changes;
  }

  async close(): Promise<void> {}

  /**
   * Atomic mode: runs `work` and the key's completion in one transaction on this database, so
   * the business writes and the recorded response commit together or not at all. `work` is
   * synchronous, as every better-sqlite3 transaction is. Without a lease (an unprotected
   * request) only `work` runs in the transaction.
   */
  atomic<R extends ResponseInput>(lease: Lease | undefined, work: (db: Database) => R): R | StoredResponse {
    if (!lease) return this.db.transaction(() => work(this.db)).immediate();
    try {
      const request = this.db
        .transaction(() => {
          const completion = lease.prepare(work(this.db));
          if (!this.completeSync(completion)) throw new StaleCompletion();
          return completion;
        })
        .immediate();
      lease.confirm(true);
      return request.response;
    } catch (error) {
      if (error instanceof StaleCompletion) lease.confirm(false);
      void lease.release().catch(() => undefined);
      throw error;
    }
  }

  private completeSync(request: CompleteRequest): boolean {
    const { response } = request;
    return (
      this.statements.complete.run({
        scope: request.scope,
        token: request.token,
        expiresAt: request.expiresAt,
        status: response.status,
        headers: JSON.stringify(response.headers),
        body: response.body,
      }).changes === 1
    );
  }

  private prepare() {
    const t = this.table;
    return {
      claim: this.db.prepare(`
        INSERT INTO ${t} (scope, fingerprint, state, token, lease_expires_at, expires_at, generation)
        VALUES (:scope, :fingerprint, 'pending', :token, :leaseExpiresAt, :expiresAt, 0)
        ON CONFLICT (scope) DO UPDATE SET
          fingerprint = excluded.fingerprint, state = 'pending', token = excluded.token,
          lease_expires_at = excluded.lease_expires_at, expires_at = excluded.expires_at,
          generation = ${t}.generation + 1, status = NULL, headers = NULL, body = NULL
        WHERE ${t}.expires_at <= :now
           OR (${t}.state = 'pending' AND ${t}.lease_expires_at <= :now AND ${t}.fingerprint = excluded.fingerprint)
        RETURNING generation`),
      get: this.db.prepare(`SELECT fingerprint, state, lease_expires_at, expires_at, status, headers, body FROM ${t} WHERE scope = ?`),
      heartbeat: this.db.prepare(
        `UPDATE ${t} SET lease_expires_at = :leaseExpiresAt WHERE scope = :scope AND state = 'pending' AND token = :token`,
      ),
      complete: this.db.prepare(`
        UPDATE ${t} SET state = 'completed', token = NULL, lease_expires_at = NULL, expires_at = :expiresAt,
          status = :status, headers = :headers, body = :body
        WHERE scope = :scope AND state = 'pending' AND token = :token`),
      release: this.db.prepare(`DELETE FROM ${t} WHERE scope = :scope AND state = 'pending' AND token = :token`),
      sweep: this.db.prepare(`DELETE FROM ${t} WHERE expires_at <= :now`),
    };
  }
}

/** Rolls the atomic transaction back when the fenced completion finds the lease taken. */
class StaleCompletion extends Error {}

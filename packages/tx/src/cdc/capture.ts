import pg from 'pg';
import { LogicalReplicationService, PgoutputPlugin } from 'pg-logical-replication';
import { backoffDelay } from '../core/retry.js';
import { checkIdentifier } from '../locking/identifiers.js';
import type { Logger } from '../manager/manager.js';
import type { EventEnvelope, Publisher } from '../publishers/publisher.js';
import { type Change, type CommittedTransaction, changesToEvents } from './changes.js';

export interface CaptureOptions {
  /** The database to capture, as a PostgreSQL URL (the replication connection is opened on it). */
  readonly connectionString: string;
  /** The replication slot: it remembers how far the capture got, across restarts. */
  readonly slot: string;
  readonly publication: string;
  /** Tables whose inserts, updates and deletes become events (`orders` or `public.orders`). */
  readonly tables?: readonly string[];
  /** Outbox tables (written with `delivery: 'cdc'`): their inserts are published as the events they hold. */
  readonly outboxTables?: readonly string[];
  readonly publisher: Publisher;
  /** Topic of a table's change events. Default `schema.table`. */
  readonly topic?: (table: string) => string;
  /** Backoff between attempts when the broker refuses (the capture never skips: it waits). Default 100 ms to 10 s. */
  readonly backoff?: { readonly baseDelayMs?: number; readonly maxDelayMs?: number };
  readonly logger?: Logger;
}

export interface SlotLag {
  readonly slot: string;
  readonly active: boolean;
  readonly confirmedFlushLsn: string | null;
  readonly currentLsn: string;
  /** WAL bytes the slot still holds back (between what the broker confirmed and the server's current position). */
  readonly lagBytes: number;
}

const qualify = (table: string) => checkIdentifier(table.includes('.') ? table : `public.${table}`, 'CaptureOptions.tables');

/**
 * Change data capture from PostgreSQL's write-ahead log through the built-in pgoutput plugin: one
 * replication slot and one publication per capture. Each committed transaction's changes go to the
 * publisher, and only after the broker confirmed all of them is the transaction's end LSN
 * acknowledged to the server, so a capture that dies is restarted from the first transaction not
 * fully confirmed (at least once; ids are stable, so JetStream, the Redis publisher and inboxes drop
 * the repeats).
 */
export class Capture {
  readonly #o: CaptureOptions & { tables: string[]; outboxTables: string[] };
  readonly #logger: Logger;
  #service: LogicalReplicationService | undefined;
  #pending: { tx: CommittedTransaction | undefined; changes: Change[] } = { tx: undefined, changes: [] };
  #confirmed: string | undefined;
  #primaryKeys = new Map<string, string[]>();
  #publishing = false;
  #running = false;
  #stats = { transactions: 0, events: 0, duplicates: 0, retries: 0 };
  readonly #sleepers = new Set<() => void>();

  constructor(options: CaptureOptions) {
    if (!options || typeof options.connectionString !== 'string')
      throw new TypeError('new Capture(options): options.connectionString must be a PostgreSQL URL');
    checkIdentifier(options.slot, 'CaptureOptions.slot');
    checkIdentifier(options.publication, 'CaptureOptions.publication');
    if (!options.publisher || typeof options.publisher.publish !== 'function')
      throw new TypeError('new Capture(options): options.publisher must be a Publisher');
    const tables = (options.tables ?? []).map(qualify);
    const outboxTables = (options.outboxTables ?? []).map(qualify);
    if (tables.length + outboxTables.length === 0)
      throw new TypeError('new Capture(options): name at least one table in tables or outboxTables');
    this.#o = { ...options, tables, outboxTables };
    this.#logger = options.logger ?? console;
  }

  get stats() {
    return { ...this.#stats };
  }

  async #admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: this.#o.connectionString });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  }

  /**
   * Creates the publication and the slot if they are missing, and sets REPLICA IDENTITY FULL on the
   * captured tables so updates and deletes carry the whole old row (`replicaIdentityFull: false`
   * keeps the table's own setting: then `before` holds the key columns only, or nothing).
   */
  async install(options: { replicaIdentityFull?: boolean } = {}): Promise<void> {
    const all = [...this.#o.tables, ...this.#o.outboxTables];
    await this.#admin(async (client) => {
      if (options.replicaIdentityFull !== false)
        for (const table of this.#o.tables) await client.query(`ALTER TABLE ${table} REPLICA IDENTITY FULL`);
      const exists = await client.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [this.#o.publication]);
      if (exists.rowCount === 0) await client.query(`CREATE PUBLICATION ${this.#o.publication} FOR TABLE ${all.join(', ')}`);
      const slot = await client.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [this.#o.slot]);
      if (slot.rowCount === 0) await client.query("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [this.#o.slot]);
    });
  }

  /** Drops the slot (so it holds no WAL any more) and the publication. Stop the capture first. */
  async uninstall(): Promise<void> {
    await this.#admin(async (client) => {
      await client.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1', [this.#o.slot]);
      await client.query(`DROP PUBLICATION IF EXISTS ${this.#o.publication}`);
    });
  }

  /** How far behind the slot is: what the broker has not confirmed yet, in WAL bytes. */
  lag(): Promise<SlotLag> {
    return this.#admin(async (client) => {
      const { rows } = await client.query(
        `SELECT active, confirmed_flush_lsn::text AS confirmed, pg_current_wal_lsn()::text AS current,
                pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint AS lag
         FROM pg_replication_slots WHERE slot_name = $1`,
        [this.#o.slot],
      );
      const row = rows[0];
      if (!row) throw new Error(`capture: replication slot ${this.#o.slot} does not exist (run install())`);
      return {
        slot: this.#o.slot,
        active: row.active,
        confirmedFlushLsn: row.confirmed,
        currentLsn: row.current,
        lagBytes: Number(row.lag ?? 0),
      };
    });
  }

  #readPrimaryKeys(): Promise<Map<string, string[]>> {
    return this.#admin(async (client) => {
      const { rows } = await client.query<{ name: string; columns: string[] }>(
        `SELECT n.nspname || '.' || c.relname AS name, array_agg(a.attname::text ORDER BY k.ord) AS columns
         FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
         WHERE i.indisprimary AND n.nspname || '.' || c.relname = ANY($1)
         GROUP BY 1`,
        [this.#o.tables],
      );
      return new Map(rows.map((r) => [r.name, r.columns]));
    });
  }

  /** Starts streaming; resolves once the server streams. */
  async start(): Promise<void> {
    if (this.#running) return;
    const { confirmedFlushLsn } = await this.lag();
    this.#confirmed = confirmedFlushLsn ?? undefined;
    this.#primaryKeys = await this.#readPrimaryKeys();
    const service = new LogicalReplicationService(
      { connectionString: this.#o.connectionString },
      // Never acknowledge what was merely received: only what the broker confirmed (see #commit).
      { acknowledge: { auto: false, timeoutSeconds: 0 }, flowControl: { enabled: true } },
    );
    this.#service = service;
    this.#running = true;
    service.on('data', (_lsn: string, message: { tag: string }) => this.#message(message));
    service.on('heartbeat', (lsn: string, _time: number, shouldRespond: boolean) => {
      // The server's keepalive carries its WAL end. When nothing received is still being published,
      // every transaction that committed before it is confirmed, so the slot may move there: without
      // this, writes to other databases of the cluster would grow the slot's lag forever.
      if (this.#idle(service)) this.#confirmed = lsn;
      if ((shouldRespond || this.#idle(service)) && this.#confirmed) void service.acknowledge(this.#confirmed);
    });
    service.on('error', (error: Error) => {
      if (this.#running) this.#logger.warn('capture: replication stream error', { slot: this.#o.slot, error: error.message });
    });
    const started = new Promise<void>((resolve) => service.once('start', () => resolve()));
    const plugin = new PgoutputPlugin({ protoVersion: 1, publicationNames: [this.#o.publication] });
    const streaming = service.subscribe(plugin, this.#o.slot).catch((error: Error) => {
      if (this.#running) this.#logger.warn('capture: replication stopped', { slot: this.#o.slot, error: error.message });
    });
    await Promise.race([started, streaming]);
  }

  /** Stops streaming. A transaction not fully confirmed is not acknowledged and comes again at the next start. */
  async stop(): Promise<void> {
    this.#running = false;
    for (const wake of this.#sleepers) wake();
    await this.#service?.destroy();
    this.#service = undefined;
    this.#pending = { tx: undefined, changes: [] };
  }

  /** Nothing received is waiting or being published (pg-logical-replication keeps its queue private). */
  #idle(service: LogicalReplicationService): boolean {
    const internal = service as unknown as { _messageQueue?: unknown[]; _processing?: boolean };
    return this.#pending.tx === undefined && !this.#publishing && internal._messageQueue?.length === 0 && internal._processing === false;
  }

  async #message(message: { tag: string }): Promise<void> {
    switch (message.tag) {
      case 'begin': {
        const m = message as unknown as { commitLsn: string; commitTime: bigint; xid: number };
        this.#pending = { tx: { commitLsn: m.commitLsn, commitTime: m.commitTime, xid: m.xid }, changes: [] };
        return;
      }
      case 'insert':
      case 'update':
      case 'delete':
        this.#pending.changes.push(message as unknown as Change);
        return;
      case 'commit':
        return this.#commit((message as unknown as { commitEndLsn: string }).commitEndLsn);
      default:
        return;
    }
  }

  async #commit(endLsn: string): Promise<void> {
    const { tx, changes } = this.#pending;
    this.#publishing = true;
    this.#pending = { tx: undefined, changes: [] };
    try {
      await this.#commitTransaction(tx, changes, endLsn);
    } finally {
      this.#publishing = false;
    }
  }

  async #commitTransaction(tx: CommittedTransaction | undefined, changes: readonly Change[], endLsn: string): Promise<void> {
    if (tx) {
      const events = changesToEvents(tx, changes, {
        slot: this.#o.slot,
        outboxTables: new Set(this.#o.outboxTables),
        topic: this.#o.topic ?? ((table) => table),
        primaryKeys: this.#primaryKeys,
      });
      await this.#publishAll(events);
      if (!this.#running) return; // not confirmed: not acknowledged
      this.#stats.transactions += 1;
      this.#stats.events += events.length;
    }
    this.#confirmed = endLsn;
    await this.#service?.acknowledge(endLsn);
  }

  /** Publishes one transaction's events: each key in order, keys side by side, each event until the broker confirms. */
  async #publishAll(events: readonly EventEnvelope[]): Promise<void> {
    const byKey = new Map<string, EventEnvelope[]>();
    for (const e of events) byKey.set(e.aggregateId, [...(byKey.get(e.aggregateId) ?? []), e]);
    await Promise.all(
      [...byKey.values()].map(async (list) => {
        for (const event of list) {
          for (let attempt = 1; this.#running; attempt++) {
            try {
              const outcome = await this.#o.publisher.publish(event);
              if (outcome.duplicate) this.#stats.duplicates += 1;
              break;
            } catch (error) {
              this.#stats.retries += 1;
              const delay = backoffDelay(attempt, {
                baseDelayMs: this.#o.backoff?.baseDelayMs ?? 100,
                maxDelayMs: this.#o.backoff?.maxDelayMs ?? 10_000,
              });
              this.#logger.warn('capture: the broker refused an event; retrying', {
                id: event.id,
                attempt,
                error: (error as Error).message,
              });
              await new Promise<void>((resolve) => {
                const wake = () => {
                  clearTimeout(timer);
                  this.#sleepers.delete(wake);
                  resolve();
                };
                const timer = setTimeout(wake, delay);
                this.#sleepers.add(wake);
              });
            }
          }
          if (!this.#running) return;
        }
      }),
    );
  }
}

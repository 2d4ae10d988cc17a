import { backoffDelay } from '../core/retry.js';
import type { Logger } from '../manager/manager.js';
import { type OutboxRow, rowToEnvelope } from '../outbox/event.js';
import type { Outbox } from '../outbox/outbox.js';
import type { EventEnvelope, Publisher, PublishOutcome } from '../publishers/publisher.js';
import { Claims } from './claims.js';
import { Wakeup } from './wakeup.js';

export interface RelayOptions {
  /** Most events per batch (one transaction). Default 500. */
  readonly batchSize?: number;
  /** Most keys per batch; each key's events go out one after another, keys in parallel. Default 100. */
  readonly keysPerBatch?: number;
  /** How often to look without a notification. Default 1000 ms. */
  readonly pollIntervalMs?: number;
  /** Wake on PostgreSQL LISTEN/NOTIFY. Default true (ignored on other databases). */
  readonly listen?: boolean;
  /**
   * This relay is the only one on its outbox (e.g. one embedded process on a SQLite file): it reads a batch, publishes
   * it with no transaction open, then marks it in a short transaction, so writers are never held up by the broker.
   * Two sole relays on one outbox would publish events twice (brokers that deduplicate by id still store them once).
   * Default false: the batch's rows stay locked until its outcome commits, and relays share the outbox.
   */
  readonly sole?: boolean;
  /** After this many failed attempts an event is parked in the dead-letter table. Default 20. */
  readonly maxAttempts?: number;
  /** Backoff between attempts of one event: capped exponential with full jitter. Default 100 ms to 60 s. */
  readonly backoff?: { readonly baseDelayMs?: number; readonly maxDelayMs?: number };
  /** Longest wait for a broker's confirmation before the attempt counts as failed. Default 10 s. */
  readonly publishTimeoutMs?: number;
  /** Delivered rows are deleted this long after delivery. Default 24 h; 0 deletes them at the next sweep. */
  readonly retentionMs?: number;
  /** How often the retention sweep runs. Default 60 s. */
  readonly cleanupIntervalMs?: number;
  readonly logger?: Logger;
  readonly random?: () => number;
}

export interface BatchResult {
  readonly claimed: number;
  readonly delivered: number;
  readonly duplicates: number;
  readonly failed: number;
  readonly deadLettered: number;
}

export interface RelayStats extends BatchResult {
  readonly batches: number;
  readonly cleaned: number;
}

function positiveInt(value: unknown, field: string, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min)
    throw new TypeError(`RelayOptions.${field} must be an integer >= ${min}, got ${String(value)}`);
  return value;
}

interface Published {
  readonly delivered: (number | string)[];
  readonly failures: { row: OutboxRow; error: Error; poison: boolean }[];
  duplicates: number;
}

class PublishTimeoutError extends Error {
  constructor(ms: number) {
    super(`the broker did not confirm within ${ms} ms`);
    this.name = 'PublishTimeoutError';
  }
}

/**
 * Recording a batch's outcome failed after its events were published. Not retryable by the manager on purpose (the
 * database error is kept as `error`, not as `cause`, which the retry classifier follows).
 */
export class BatchOutcomeError extends Error {
  readonly error: unknown;
  constructor(error: unknown) {
    super(
      `outbox relay: the batch was published but its outcome was not recorded; its events will be delivered again (${(error as Error)?.message ?? String(error)})`,
    );
    this.name = 'BatchOutcomeError';
    this.error = error;
  }
}

function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new PublishTimeoutError(ms)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Delivers an outbox's events to a publisher at least once, in order per aggregate key. Several
 * relays (in one process or many) share an outbox: each batch owns its keys through row locks (see
 * Claims), so no two relays publish events of one key at the same time.
 */
export class Relay {
  readonly #outbox: Outbox;
  readonly #publisher: Publisher;
  readonly #claims: Claims;
  readonly #wakeup: Wakeup;
  readonly #o: Required<Omit<RelayOptions, 'backoff' | 'logger' | 'random'>> & {
    backoff: { baseDelayMs: number; maxDelayMs: number };
  };
  readonly #logger: Logger;
  readonly #random: () => number;
  #stats = { claimed: 0, delivered: 0, duplicates: 0, failed: 0, deadLettered: 0, batches: 0, cleaned: 0 };
  #loop: Promise<void> | undefined;
  #running = false;
  #lastCleanup = 0;

  constructor(outbox: Outbox, publisher: Publisher, options: RelayOptions = {}) {
    if (!outbox || typeof outbox.publish !== 'function') throw new TypeError('new Relay(outbox, publisher): outbox must be an Outbox');
    if (!publisher || typeof publisher.publish !== 'function')
      throw new TypeError('new Relay(outbox, publisher): publisher must be a Publisher');
    if (outbox.delivery === 'cdc')
      throw new TypeError('new Relay: this outbox deletes its rows for CDC; use a Capture with outboxEvents() instead');
    const baseDelayMs = positiveInt(options.backoff?.baseDelayMs, 'backoff.baseDelayMs', 100, 0);
    const maxDelayMs = positiveInt(options.backoff?.maxDelayMs, 'backoff.maxDelayMs', 60_000, 0);
    this.#o = {
      batchSize: positiveInt(options.batchSize, 'batchSize', 500),
      keysPerBatch: positiveInt(options.keysPerBatch, 'keysPerBatch', 100),
      pollIntervalMs: positiveInt(options.pollIntervalMs, 'pollIntervalMs', 1000),
      listen: options.listen ?? true,
      sole: options.sole === true,
      maxAttempts: positiveInt(options.maxAttempts, 'maxAttempts', 20),
      backoff: { baseDelayMs, maxDelayMs },
      publishTimeoutMs: positiveInt(options.publishTimeoutMs, 'publishTimeoutMs', 10_000),
      retentionMs: positiveInt(options.retentionMs, 'retentionMs', 86_400_000, 0),
      cleanupIntervalMs: positiveInt(options.cleanupIntervalMs, 'cleanupIntervalMs', 60_000),
    };
    this.#outbox = outbox;
    this.#publisher = publisher;
    this.#logger = options.logger ?? console;
    this.#random = options.random ?? Math.random;
    const tm = outbox.manager;
    this.#claims = new Claims(tm, outbox.tables, !this.#o.sole);
    const listens = this.#o.listen && tm.dialect === 'postgres';
    this.#wakeup = new Wakeup(listens ? tm.driver.pool : undefined, outbox.channel, this.#logger);
  }

  get stats(): RelayStats {
    return { ...this.#stats };
  }

  /** Whether a LISTEN connection is open right now. */
  get listening(): boolean {
    return this.#wakeup.listening;
  }

  /** Starts delivering in the background until `stop()`. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Stops after the batch in flight (its outcome is committed) and closes the LISTEN connection. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#wakeup.notify();
    await this.#loop;
    this.#loop = undefined;
    await this.#wakeup.close();
  }

  async #run(): Promise<void> {
    while (this.#running) {
      let result: BatchResult | undefined;
      try {
        result = await this.runOnce();
        if (Date.now() - this.#lastCleanup >= this.#o.cleanupIntervalMs) await this.cleanup();
      } catch (error) {
        this.#logger.warn('outbox relay: a batch failed; its events stay in the outbox and are retried', {
          error: (error as Error).message,
        });
      }
      if (!this.#running) break;
      // A batch that moved events on may have left more: go on at once. Otherwise sleep until notified or the poll interval.
      if (result && result.delivered + result.deadLettered > 0) continue;
      await this.#wakeup.wait(this.#o.pollIntervalMs);
    }
  }

  /** Claims and delivers one batch; resolves once its outcome is committed. */
  async runOnce(): Promise<BatchResult> {
    const tm = this.#outbox.manager;
    const options = {
      name: 'outbox.relay',
      propagation: 'REQUIRES_NEW' as const,
      // A deadlock or busy database while claiming is retried; nothing was published yet then.
      retry: { attempts: 5 },
      ...(tm.dialect === 'sqlite' ? {} : { isolation: 'READ_COMMITTED' as const }),
    };
    let result: BatchResult;
    if (this.#o.sole) {
      // No lock is held while the broker answers: the rows are read, published, then marked in a short transaction.
      const rows = await tm.run(() => this.#claim(), { ...options, readOnly: true });
      const published = await this.#publishAll(rows);
      result = await tm.run(() => this.#record(rows, published), { ...options, name: 'outbox.relay.record' });
    } else {
      result = await tm.run(async () => {
        const rows = await this.#claim();
        return this.#record(rows, await this.#publishAll(rows));
      }, options);
    }
    this.#stats.batches += 1;
    for (const key of ['claimed', 'delivered', 'duplicates', 'failed', 'deadLettered'] as const) this.#stats[key] += result[key];
    return result;
  }

  /** Wakes a relay started with `start()` now, as a notification would (e.g. after a commit in this process). */
  wake(): void {
    this.#wakeup.notify();
  }

  /**
   * Runs batches until no event is due, whoever holds it: when another relay owns the remaining keys, it waits for
   * that relay's batch to commit (or its connection to drop) and looks again. Events in backoff stay. Handy in tests
   * and scripts.
   */
  async drain(): Promise<RelayStats> {
    const tm = this.#outbox.manager;
    for (let idle = 0; ; ) {
      if ((await this.runOnce()).claimed > 0) {
        idle = 0;
        continue;
      }
      const due = await tm.run(() => this.#claims.anyDue(Date.now()), { propagation: 'REQUIRES_NEW', name: 'outbox.drain' });
      if (!due) return this.stats;
      // Another relay's batch holds them: give it the time of a short backoff (capped at the poll interval).
      idle += 1;
      await new Promise((resolve) => setTimeout(resolve, Math.min(this.#o.pollIntervalMs, 5 * 2 ** Math.min(idle, 6))));
    }
  }

  /** The heads of up to `keysPerBatch` keys and their next events, in sequence order. */
  async #claim(): Promise<OutboxRow[]> {
    const heads = await this.#claims.heads(Date.now(), this.#o.keysPerBatch);
    if (heads.length === 0) return [];
    return this.#claims.batch(
      heads.map((h) => h.aggregate_id),
      Math.max(this.#o.batchSize, heads.length),
    );
  }

  /** Publishes each key's events one after another, keys in parallel; a key stops at its first failure. */
  async #publishAll(rows: readonly OutboxRow[]): Promise<Published> {
    const byKey = new Map<string, OutboxRow[]>();
    for (const row of rows) {
      const list = byKey.get(row.aggregate_id);
      if (list) list.push(row);
      else byKey.set(row.aggregate_id, [row]);
    }
    const published: Published = { delivered: [], failures: [], duplicates: 0 };
    await Promise.all(
      [...byKey.values()].map(async (list) => {
        for (const row of list) {
          let event: EventEnvelope;
          try {
            event = rowToEnvelope(row);
          } catch (error) {
            published.failures.push({ row, error: error as Error, poison: true });
            return;
          }
          let outcome: PublishOutcome;
          try {
            outcome = await within(this.#publisher.publish(event), this.#o.publishTimeoutMs);
          } catch (error) {
            // The key stops here: its later events must not overtake this one.
            published.failures.push({ row, error: error instanceof Error ? error : new Error(String(error)), poison: false });
            return;
          }
          published.delivered.push(row.seq);
          if (outcome.duplicate) published.duplicates += 1;
        }
      }),
    );
    return published;
  }

  /** Commits a batch's outcome: delivered rows marked, failures rescheduled or parked. */
  async #record(rows: readonly OutboxRow[], published: Published): Promise<BatchResult> {
    const { delivered, failures, duplicates } = published;
    if (rows.length === 0) return { claimed: 0, delivered: 0, duplicates: 0, failed: 0, deadLettered: 0 };
    const done = Date.now();
    let deadLettered = 0;
    try {
      await this.#claims.markPublished(delivered, done);
      for (const { row, error, poison } of failures) {
        const message = `${error.name}: ${error.message}`;
        if (poison || row.attempts + 1 >= this.#o.maxAttempts) {
          await this.#claims.moveToDead(row.seq, done, message);
          deadLettered += 1;
          this.#logger.warn('outbox relay: event parked in the dead-letter table', {
            id: row.id,
            attempts: row.attempts + 1,
            error: message,
          });
        } else {
          await this.#claims.markFailed(row.seq, done + backoffDelay(row.attempts + 1, this.#o.backoff, this.#random), message);
        }
      }
    } catch (error) {
      // A retry of the whole batch would publish its events again at once; they stay in the outbox for a later batch.
      if (delivered.length > 0 || failures.length > 0) throw new BatchOutcomeError(error);
      throw error;
    }
    return { claimed: rows.length, delivered: delivered.length, duplicates, failed: failures.length - deadLettered, deadLettered };
  }

  /** Deletes rows delivered longer than the retention ago, in bounded transactions; returns how many. */
  async cleanup(): Promise<number> {
    this.#lastCleanup = Date.now();
    const before = Date.now() - this.#o.retentionMs;
    let total = 0;
    for (;;) {
      const n = await this.#outbox.manager.run(() => this.#claims.deleteDelivered(before, 1000), {
        propagation: 'REQUIRES_NEW',
        name: 'outbox.cleanup',
      });
      total += n;
      if (n < 1000) break;
    }
    this.#stats.cleaned += total;
    return total;
  }

  /** The parked events, oldest first, with their last error. */
  deadLetters() {
    return this.#outbox.manager.run(() => this.#claims.deadLetters(), { propagation: 'REQUIRES_NEW' });
  }

  /** Moves a parked event back into the outbox for another round of attempts. */
  requeue(id: string): Promise<boolean> {
    return this.#outbox.manager.run(() => this.#claims.requeue(id), { propagation: 'REQUIRES_NEW', name: 'outbox.requeue' });
  }
}

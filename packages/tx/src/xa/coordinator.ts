import { randomUUID } from 'node:crypto';
import { withPlaceholders } from '../adapters/placeholders.js';
import { checkIdentifier } from '../locking/identifiers.js';
import type { TransactionManager } from '../manager/manager.js';
import { type Branch, checkXid, type OpenBranch, type Participant } from './participants.js';

type AnyManager = TransactionManager<unknown, unknown>;

/** prepared -> committed | aborted; `commit` is the decision, written before any branch commits. */
export type Decision = 'commit' | 'abort';

export interface CoordinatorOptions {
  /** The decision log's database (any dialect); it must outlive the coordinator process. */
  readonly log: TransactionManager<unknown, unknown>;
  readonly participants: Readonly<Record<string, Participant>>;
  /** Prefix of this coordinator's transaction ids; recovery touches only those. Default "myrmex". */
  readonly prefix?: string;
  readonly table?: string;
  /** Test hook and instrumentation: called at each phase with the global id. */
  readonly onPhase?: (phase: 'prepared' | 'decided' | 'committed', gtrid: string) => unknown;
}

/** The outcome was decided (commit) but a branch could not be committed yet; `recover()` finishes it. */
export class InDoubtError extends Error {
  constructor(
    readonly gtrid: string,
    options?: ErrorOptions,
  ) {
    super(`global transaction ${gtrid} is decided (commit) but not every branch committed yet; recover() will finish it`, options);
    this.name = 'InDoubtError';
  }
}

/**
 * A two-phase commit coordinator with a durable decision log (presumed abort): a branch prepared
 * with no `commit` decision in the log is rolled back by recovery, one with it is committed.
 */
export class TwoPhaseCoordinator {
  readonly #log: AnyManager;
  readonly #participants: ReadonlyMap<string, Participant>;
  readonly #prefix: string;
  readonly #table: string;
  readonly #onPhase: CoordinatorOptions['onPhase'];

  constructor(options: CoordinatorOptions) {
    if (typeof options?.log?.run !== 'function') throw new TypeError('TwoPhaseCoordinator options.log must be a TransactionManager');
    const entries = Object.entries(options.participants ?? {});
    if (entries.length === 0) throw new TypeError('TwoPhaseCoordinator options.participants must name at least one participant');
    for (const [name, p] of entries) {
      if (!/^[a-z0-9_]{1,20}$/i.test(name))
        throw new TypeError(`participant name ${JSON.stringify(name)} must be 1-20 letters, digits or "_"`);
      if (typeof p?.begin !== 'function') throw new TypeError(`participants.${name} must come from pgParticipant or mysqlParticipant`);
    }
    this.#prefix = options.prefix ?? 'myrmex';
    checkXid(this.#prefix);
    this.#log = options.log;
    this.#participants = new Map(entries);
    this.#table = checkIdentifier(options.table ?? 'myrmex_xa_log', 'TwoPhaseCoordinator options.table');
    this.#onPhase = options.onPhase;
  }

  #sql(text: string): string {
    return withPlaceholders(this.#log.driver, text);
  }

  async ensureSchema(): Promise<void> {
    await this.#log.execute(
      `CREATE TABLE IF NOT EXISTS ${this.#table} (gtrid VARCHAR(64) PRIMARY KEY, decision VARCHAR(10) NOT NULL, at BIGINT NOT NULL)`,
    );
  }

  /** The branch id of participant `name` in global transaction `gtrid`. */
  #xid(gtrid: string, name: string): string {
    return `${gtrid}.${name}`;
  }

  async #decide(gtrid: string, decision: Decision): Promise<void> {
    await this.#log.run(
      () =>
        this.#log.execute(this.#sql(`INSERT INTO ${this.#table} (gtrid, decision, at) VALUES (?, ?, ?)`), [gtrid, decision, Date.now()]),
      { retry: { attempts: 10, baseDelayMs: 5 } },
    );
  }

  async #decision(gtrid: string): Promise<Decision | undefined> {
    const { rows } = await this.#log.execute<{ decision: Decision }>(this.#sql(`SELECT decision FROM ${this.#table} WHERE gtrid = ?`), [
      gtrid,
    ]);
    return rows[0]?.decision;
  }

  /**
   * Runs `fn` with one branch per participant; when it returns, prepares them all, logs the commit
   * decision, and commits. Any failure before the decision rolls every branch back.
   */
  async run<T>(fn: (branches: Readonly<Record<string, Branch>>) => Promise<T>): Promise<T> {
    const gtrid = `${this.#prefix}-${randomUUID()}`;
    const open = new Map<string, OpenBranch>();
    const prepared = new Set<string>();
    const undo = async () => {
      // Failures are left to recovery, which rolls back whatever stays prepared without a commit decision.
      for (const [name, branch] of open) {
        if (prepared.has(name)) {
          branch.release();
          await this.#participants
            .get(name)!
            .rollbackPrepared(this.#xid(gtrid, name))
            .catch(() => undefined);
        } else {
          await branch.rollback().catch(() => undefined);
          branch.release();
        }
      }
    };
    let value: T;
    try {
      for (const [name, participant] of this.#participants) open.set(name, await participant.begin(this.#xid(gtrid, name)));
      value = await fn(Object.fromEntries(open));
      for (const [name, branch] of open) {
        await branch.prepare();
        prepared.add(name);
      }
      for (const branch of open.values()) branch.release();
      await this.#onPhase?.('prepared', gtrid);
    } catch (error) {
      await this.#decide(gtrid, 'abort').catch(() => undefined);
      await undo();
      throw error;
    }
    // The commit point: once this row is durable the transaction commits, whatever crashes next. The
    // key decides a race with a recovery that judged these branches abandoned: whoever logs first wins.
    try {
      await this.#decide(gtrid, 'commit');
    } catch (error) {
      if ((await this.#decision(gtrid)) !== 'abort') throw new InDoubtError(gtrid, { cause: error });
      await undo();
      throw new Error(`global transaction ${gtrid} was aborted by a recovery before it could commit`, { cause: error });
    }
    await this.#onPhase?.('decided', gtrid);
    try {
      for (const [name, participant] of this.#participants) await participant.commitPrepared(this.#xid(gtrid, name));
    } catch (error) {
      throw new InDoubtError(gtrid, { cause: error });
    }
    await this.#onPhase?.('committed', gtrid);
    return value;
  }

  /**
   * Resolves every in-doubt branch of this coordinator's prefix: commit where the log holds a commit
   * decision, roll back otherwise (presumed abort). Run it at start-up and periodically.
   */
  async recover(): Promise<{ committed: string[]; rolledBack: string[] }> {
    const committed: string[] = [];
    const rolledBack: string[] = [];
    for (const [name, participant] of this.#participants) {
      const suffix = `.${name}`;
      for (const xid of await participant.prepared()) {
        if (!xid.startsWith(`${this.#prefix}-`) || !xid.endsWith(suffix)) continue;
        const gtrid = xid.slice(0, -suffix.length);
        let decision = await this.#decision(gtrid);
        if (decision === undefined) {
          // Presumed abort, made durable first, so a coordinator still alive cannot log commit afterwards.
          await this.#decide(gtrid, 'abort').catch(() => undefined);
          decision = await this.#decision(gtrid);
        }
        if (decision === 'commit') {
          await participant.commitPrepared(xid);
          committed.push(xid);
        } else {
          await participant.rollbackPrepared(xid);
          rolledBack.push(xid);
        }
      }
    }
    return { committed, rolledBack };
  }
}

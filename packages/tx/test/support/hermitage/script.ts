import { setTimeout as sleep } from 'node:timers/promises';
import { classifyError, type Dialect } from '../../../src/index.js';
import type { Kind } from '../databases.js';
import { beginSql, type Level, type Monitor, type Output, type Rows, type Session } from './sessions.js';

export type Name = 'T1' | 'T2' | 'T3';

/** One statement of the script and what became of it. */
export interface Step {
  readonly session: Name;
  readonly sql: string;
  output?: Output;
  error?: unknown;
  /** The database made it wait for a lock held by another transaction. */
  blocked: boolean;
  /** Not run: its transaction had already failed. */
  skipped: boolean;
  done: boolean;
}

interface Lane {
  readonly session: Session;
  chain: Promise<void>;
  pending: number;
  /** An error ended the transaction; later statements are skipped until COMMIT/ROLLBACK. */
  failed: boolean;
  committed: boolean;
}

const SETTLE_LIMIT_MS = 8000;
const DIALECT: Record<Kind, Dialect> = { postgres: 'postgres', mariadb: 'mysql', sqlite: 'sqlite' };

/**
 * Runs a Hermitage script the way a person with three terminals does: statements in order; one
 * that the database makes wait stays pending while the script goes on with the other sessions.
 * After every statement the script waits until each session has either finished its work or is
 * seen waiting for a lock (asked of the database, twice in a row), so no fixed sleeps are needed.
 */
export class Script {
  readonly #lanes: Map<Name, Lane>;
  readonly #steps: Step[] = [];
  aborts = 0;

  constructor(
    readonly kind: Kind,
    readonly level: Level,
    readonly table: string,
    sessions: Record<Name, Session>,
    readonly monitor: Monitor,
  ) {
    this.#lanes = new Map(
      (Object.entries(sessions) as Array<[Name, Session]>).map(([name, session]) => [
        name,
        { session, chain: Promise.resolve(), pending: 0, failed: false, committed: false },
      ]),
    );
  }

  get blockedAny(): boolean {
    return this.#steps.some((s) => s.blocked);
  }

  async begin(...names: Name[]): Promise<void> {
    for (const name of names) {
      const lane = this.#lane(name);
      lane.failed = false;
      lane.committed = false;
      for (const sql of beginSql(this.kind, this.level)) await this.#step(name, sql);
    }
  }

  /** A statement on `test`, which the script writes as the table name. */
  q(name: Name, sql: string): Promise<Step> {
    return this.#step(name, sql.replaceAll(' test', ` ${this.table}`));
  }

  commit(name: Name): Promise<Step> {
    return this.#step(name, 'COMMIT');
  }

  rollback(name: Name): Promise<Step> {
    return this.#step(name, 'ROLLBACK');
  }

  committed(name: Name): boolean {
    return this.#lane(name).committed;
  }

  /** Waits for every session to finish its statements. */
  async finish(): Promise<void> {
    await Promise.all([...this.#lanes.values()].map((lane) => lane.chain));
  }

  async final(): Promise<Rows> {
    return (await this.monitor.exec(`SELECT id, value FROM ${this.table} ORDER BY id`)).rows ?? new Map();
  }

  #lane(name: Name): Lane {
    const lane = this.#lanes.get(name);
    if (!lane) throw new Error(`session ${name} is not part of this scenario`);
    return lane;
  }

  async #step(name: Name, sql: string): Promise<Step> {
    const lane = this.#lane(name);
    const step: Step = { session: name, sql, blocked: false, skipped: false, done: false };
    this.#steps.push(step);
    const ends = sql === 'COMMIT' || sql === 'ROLLBACK';
    const run = async () => {
      try {
        if (lane.failed) {
          step.skipped = !ends;
          if (ends) await lane.session.exec('ROLLBACK');
          return;
        }
        step.output = await lane.session.exec(sql);
        if (sql === 'COMMIT') lane.committed = step.output.rolledBack !== true;
      } catch (error) {
        step.error = error;
        lane.failed = true;
        // Only concurrency control may stop a statement here; anything else is a broken script.
        if (classifyError(DIALECT[this.kind], error) === undefined) throw error;
        this.aborts += 1;
        // MariaDB has already rolled back after a deadlock; PostgreSQL waits for ROLLBACK; both are fine with one.
      } finally {
        step.done = true;
        lane.pending -= 1;
      }
    };
    lane.pending += 1;
    lane.chain = lane.chain.then(run);
    await this.#settle(step);
    return step;
  }

  async #settle(step: Step): Promise<void> {
    const started = performance.now();
    let previous = new Set<Name>();
    for (;;) {
      let busy = [...this.#lanes.entries()].filter(([, lane]) => lane.pending > 0);
      if (busy.length === 0) return;
      // Wake as soon as any running statement finishes; ask the database only about what still runs.
      await Promise.race([...busy.map(([, lane]) => lane.chain.catch(() => undefined)), sleep(this.monitor.pollMs)]);
      busy = busy.filter(([, lane]) => lane.pending > 0);
      if (busy.length === 0) continue;
      const waiting = await this.monitor.waiting(busy.map(([, lane]) => lane.session.id));
      const blocked = new Set(busy.filter(([, lane]) => waiting.has(lane.session.id)).map(([name]) => name));
      const stillBusy = [...this.#lanes.entries()].filter(([, lane]) => lane.pending > 0).map(([name]) => name);
      if (stillBusy.every((name) => blocked.has(name) && previous.has(name))) {
        if (!step.done) step.blocked = true;
        return;
      }
      previous = blocked;
      if (performance.now() - started > SETTLE_LIMIT_MS)
        throw new Error(`${this.kind} ${this.level}: "${step.sql}" neither finished nor waited for a lock`);
    }
  }
}

export function value(step: Step, id: number): number | undefined {
  return step.output?.rows?.get(id);
}

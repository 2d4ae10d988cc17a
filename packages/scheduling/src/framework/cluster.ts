import type { Ant, Resources, RunningAttempt } from '../model.js';
import { accumulate, sameResources } from '../resources.js';
import type { AntState } from './plugin.js';

/** Whoever work is charged to. */
export interface Owner {
  readonly jobId: string;
  readonly tenant: string;
  readonly user?: string;
  readonly queue?: string;
  readonly jobType: string;
}

/** The account an owner is charged to, per kind of ledger (tenant, type, queue, user). */
export function accountKey(kind: string, owner: Owner): string | undefined {
  switch (kind) {
    case 'tenant':
      return `tenant:${owner.tenant}`;
    case 'type':
      return `type:${owner.jobType}`;
    case 'queue':
      return `queue:${owner.queue ?? 'default'}`;
    case 'user':
      return owner.user === undefined ? undefined : `user:${owner.tenant}/${owner.user}`;
    default:
      return undefined;
  }
}

/** An ant's capacity after overcommit: what burstable and best-effort work may fill. */
export function effectiveCapacity(capacity: Resources, overcommit: Resources | undefined): Record<string, number> {
  const effective: Record<string, number> = { ...capacity };
  if (overcommit) for (const key in overcommit) if (key in effective) effective[key] = effective[key]! * (overcommit[key] ?? 1);
  return effective;
}

/** The most any one schedulable ant has free, per resource: a task asking more fits nowhere. */
export function mostFreeOf(ants: readonly AntState[]): Record<string, number> {
  const most: Record<string, number> = {};
  for (const state of ants) {
    if (state.ant.schedulable === false) continue;
    for (const key in state.free) most[key] = Math.max(most[key] ?? Number.NEGATIVE_INFINITY, state.free[key] ?? 0);
  }
  return most;
}

/**
 * Keeps `most` (what `mostFreeOf` returned) true as `sign` x `resources` is about to be added to `state.free`,
 * without a scan: a maximum rises at once; it can only fall when the ant held it, and then this returns false
 * (recompute). Maxima are exact, so the kept figure equals a recomputed one.
 */
export function keepMost(most: Record<string, number>, state: AntState, resources: Resources, sign: number): boolean {
  if (state.ant.schedulable === false) return true;
  for (const key in resources) {
    const before = state.free[key];
    const after = (before ?? 0) + sign * (resources[key] ?? 0);
    const top = most[key];
    if (top === undefined || after > top) most[key] = after;
    else if (before === top && after < before) return false;
  }
  return true;
}

/** As `keepMost`, once one schedulable ant's free capacity went from `before` to `after`. */
function keptMost(
  most: Record<string, number>,
  before: Readonly<Record<string, number>>,
  after: Readonly<Record<string, number>>,
): boolean {
  for (const key in before) if (!(key in after) && before[key] === most[key]) return false;
  for (const key in after) {
    const value = after[key]!;
    const top = most[key];
    if (top === undefined || value > top) most[key] = value;
    else if (before[key] === top && value < top) return false;
  }
  return true;
}

/** Sum of every schedulable ant's capacity (after overcommit). */
export function totalOf(ants: readonly AntState[]): Record<string, number> {
  const total: Record<string, number> = {};
  for (const state of ants) if (state.ant.schedulable !== false) accumulate(total, state.capacity);
  return total;
}

/** What one account holds: its running attempts in start order, their summed resources, and its distinct jobs. */
export interface Account {
  readonly attempts: Map<string, RunningAttempt>;
  /** Sum of the attempts' resources, added in start order; undefined once an attempt left (recomputed when read). */
  sum: Record<string, number> | undefined;
  /** Attempts per job id. */
  readonly jobs: Map<string, number>;
}

/**
 * Ants and running attempts kept between passes, the way `PendingQueue` keeps pending work: the caller reports
 * starts, ends and ant changes as they happen, and a pass given the cluster (`schedulePass(snapshot, plugins,
 * { cluster })`) reads ant state and ledgers from it instead of rebuilding them from every running attempt. What a
 * pass books on an ant it gives back when it ends; the caller starts the attempts it admits.
 *
 * Every figure equals what a pass would compute from a snapshot of the same ants and attempts, to the bit: free
 * capacity and ledger sums are added in start order, and recomputed in that order (not subtracted) when an
 * attempt leaves, so floating-point rounding cannot make the two disagree.
 */
export class Cluster {
  /** Ant state in the order ants were first added (a replaced ant keeps its place). */
  readonly states: AntState[] = [];
  private readonly byId = new Map<string, AntState>();
  private readonly attempts = new Map<string, RunningAttempt>();
  private readonly ledgers = new Map<string, Map<string, Account>>();
  private runningList?: RunningAttempt[];
  private most?: Record<string, number>;
  private sumOfCapacity?: Record<string, number>;

  constructor(readonly overcommit?: Resources) {}

  get size(): number {
    return this.attempts.size;
  }

  get(attemptId: string): RunningAttempt | undefined {
    return this.attempts.get(attemptId);
  }

  /** Running attempts in start order (the array is shared until the next change: do not modify it). */
  running(): readonly RunningAttempt[] {
    this.runningList ??= [...this.attempts.values()];
    return this.runningList;
  }

  /** Adds an ant, or replaces the one with its id (taken down, back up, resized), keeping its place in the list. */
  setAnt(ant: Ant): void {
    const old = this.byId.get(ant.id);
    const capacity = effectiveCapacity(ant.capacity, this.overcommit);
    const state: AntState = {
      ant,
      index: old?.index ?? this.states.length,
      capacity,
      free: {},
      rawFree: {},
      residents: old?.residents ?? [],
      attempts: old?.attempts ?? [],
    };
    if (!old) for (const attempt of this.attempts.values()) if (attempt.antId === ant.id) this.place(state, attempt);
    this.states[state.index] = state;
    this.byId.set(ant.id, state);
    this.recount(state);
    this.most = undefined;
    this.sumOfCapacity = undefined;
  }

  /** A running attempt (an admitted task, a speculative copy). Its ant may be unknown yet: it is charged to its accounts anyway. */
  start(attempt: RunningAttempt): void {
    if (this.attempts.has(attempt.id)) throw new Error(`Cluster.start: attempt ${attempt.id} is already running`);
    this.attempts.set(attempt.id, attempt);
    this.runningList = undefined;
    const state = this.byId.get(attempt.antId);
    if (state) {
      this.place(state, attempt);
      if (this.most && !keepMost(this.most, state, attempt.resources, -1)) this.most = undefined;
      accumulate(state.free, attempt.resources, -1);
      accumulate(state.rawFree, attempt.resources, -1);
    }
    for (const [kind, accounts] of this.ledgers) {
      const key = accountKey(kind, attempt);
      if (key === undefined) continue;
      let account = accounts.get(key);
      if (!account) {
        account = { attempts: new Map(), sum: {}, jobs: new Map() };
        accounts.set(key, account);
      }
      account.attempts.set(attempt.id, attempt);
      if (account.sum) accumulate(account.sum, attempt.resources);
      account.jobs.set(attempt.jobId, (account.jobs.get(attempt.jobId) ?? 0) + 1);
    }
  }

  /** Replaces a running attempt by a newer version of itself (told to stop): same ant, same resources, same place. */
  update(attempt: RunningAttempt): void {
    const old = this.attempts.get(attempt.id);
    if (!old) throw new Error(`Cluster.update: attempt ${attempt.id} is not running`);
    if (old.antId !== attempt.antId || !sameResources(old.resources, attempt.resources)) {
      throw new Error(`Cluster.update: attempt ${attempt.id} changed ant or resources; end it and start another`);
    }
    this.attempts.set(attempt.id, attempt);
    this.runningList = undefined;
    const state = this.byId.get(attempt.antId);
    if (state) {
      state.attempts[state.attempts.indexOf(old)] = attempt;
      const at = state.residents.indexOf(old);
      if (at >= 0) state.residents[at] = attempt;
    }
    for (const [kind, accounts] of this.ledgers) {
      const key = accountKey(kind, attempt);
      if (key !== undefined) accounts.get(key)?.attempts.set(attempt.id, attempt);
    }
  }

  /** An attempt finished, failed, was killed or lost. */
  end(attemptId: string): boolean {
    const attempt = this.attempts.get(attemptId);
    if (!attempt) return false;
    this.attempts.delete(attemptId);
    this.runningList = undefined;
    const state = this.byId.get(attempt.antId);
    if (state) {
      state.attempts.splice(state.attempts.indexOf(attempt), 1);
      const at = state.residents.indexOf(attempt);
      if (at >= 0) state.residents.splice(at, 1);
      this.recount(state);
    }
    for (const [kind, accounts] of this.ledgers) {
      const key = accountKey(kind, attempt);
      const account = key === undefined ? undefined : accounts.get(key);
      if (!account) continue;
      account.attempts.delete(attemptId);
      if (account.attempts.size === 0) {
        accounts.delete(key!);
        continue;
      }
      account.sum = undefined;
      const left = (account.jobs.get(attempt.jobId) ?? 1) - 1;
      if (left === 0) account.jobs.delete(attempt.jobId);
      else account.jobs.set(attempt.jobId, left);
    }
    return true;
  }

  /** Sum of every schedulable ant's capacity. */
  total(): Record<string, number> {
    this.sumOfCapacity ??= totalOf(this.states);
    return this.sumOfCapacity;
  }

  /** The most any schedulable ant has free, per resource (as no pass has booked anything). */
  mostFree(): Record<string, number> {
    this.most ??= mostFreeOf(this.states);
    return this.most;
  }

  /**
   * The account of `key` in ledger `kind`, its sum up to date; undefined when nothing running is charged to it.
   * A kind is built from the running attempts when first asked, then kept as attempts start and end.
   */
  account(kind: string, key: string): Account | undefined {
    let accounts = this.ledgers.get(kind);
    if (!accounts) {
      accounts = new Map();
      this.ledgers.set(kind, accounts);
      for (const attempt of this.attempts.values()) {
        const at = accountKey(kind, attempt);
        if (at === undefined) continue;
        let account = accounts.get(at);
        if (!account) {
          account = { attempts: new Map(), sum: {}, jobs: new Map() };
          accounts.set(at, account);
        }
        account.attempts.set(attempt.id, attempt);
        accumulate(account.sum!, attempt.resources);
        account.jobs.set(attempt.jobId, (account.jobs.get(attempt.jobId) ?? 0) + 1);
      }
    }
    const account = accounts.get(key);
    if (account && !account.sum) {
      const sum: Record<string, number> = {};
      for (const attempt of account.attempts.values()) accumulate(sum, attempt.resources);
      account.sum = sum;
    }
    return account;
  }

  private place(state: AntState, attempt: RunningAttempt): void {
    state.residents.push(attempt);
    state.attempts.push(attempt);
  }

  /** Free capacity from scratch, attempts in start order: the same arithmetic as a pass over a snapshot. */
  private recount(state: AntState): void {
    const before = this.most && state.ant.schedulable !== false ? { ...state.free } : undefined;
    reset(state.free, state.capacity);
    reset(state.rawFree, state.ant.capacity);
    for (const attempt of state.attempts) {
      accumulate(state.free, attempt.resources, -1);
      accumulate(state.rawFree, attempt.resources, -1);
    }
    if (this.most && !(before && keptMost(this.most, before, state.free))) this.most = undefined;
  }
}

/** Makes `target` a copy of `source` in place (keys it alone had are dropped), so objects keep their shape. */
export function reset(target: Record<string, number>, source: Resources): void {
  for (const key in target) if (!(key in source)) delete target[key];
  for (const key in source) target[key] = source[key]!;
}

import { childIndex, childRank, decodePath, nodesOnLevel } from '../core/paths.js';
import { namedTraitorSend, SILENT } from '../core/strategy.js';
import { majorityCode } from '../core/values.js';
import type { OmSetup } from './protocol.js';

/** Growable parallel typed arrays of outgoing OM messages for one destination worker. */
export class OmOutbox {
  to = new Int32Array(1024);
  index = new Uint32Array(1024);
  value = new Uint16Array(1024);
  length = 0;

  push(to: number, index: number, value: number): void {
    if (this.length === this.to.length) {
      const grow = this.length * 2;
      this.to = copyInto(new Int32Array(grow), this.to);
      this.index = copyInto(new Uint32Array(grow), this.index);
      this.value = copyInto(new Uint16Array(grow), this.value);
    }
    this.to[this.length] = to;
    this.index[this.length] = index;
    this.value[this.length] = value;
    this.length++;
  }

  /** Trimmed copies that can be transferred (the outbox keeps nothing). */
  take(): { to: Int32Array; index: Uint32Array; value: Uint16Array } {
    const batch = { to: this.to.slice(0, this.length), index: this.index.slice(0, this.length), value: this.value.slice(0, this.length) };
    this.length = 0;
    return batch;
  }
}

function copyInto<T extends Int32Array | Uint32Array | Uint16Array>(target: T, source: T): T {
  target.set(source);
  return target;
}

/**
 * The OM(m) generals hosted by one worker. Each lieutenant keeps what it received for every
 * tree node (level by level, zero meaning RETREAT for a missing message), relays in the next
 * round, and after round m + 1 resolves its own tree bottom-up, exactly as the fast engine does
 * in one walk.
 */
export class OmActors {
  readonly #setup: OmSetup;
  readonly #received = new Map<number, Uint16Array[]>();
  readonly #traitor: Uint8Array;
  messages = 0;

  constructor(
    setup: OmSetup,
    readonly hosted: readonly number[],
  ) {
    this.#setup = setup;
    this.#traitor = new Uint8Array(setup.generals);
    for (const id of setup.traitors) this.#traitor[id] = 1;
    for (const id of hosted) {
      if (id === 0) continue;
      this.#received.set(
        id,
        Array.from({ length: setup.rounds + 1 }, (_, level) => new Uint16Array(nodesOnLevel(setup.generals, level))),
      );
    }
  }

  #sendValue(sender: number, level: number, index: number, recipient: number, honest: number): number {
    if (this.#traitor[sender] === 0) return honest;
    return namedTraitorSend(this.#setup.strategyCode, this.#setup.seed, level, index, recipient, honest);
  }

  /** Round 1: the commander's order to every lieutenant (only the worker hosting general 0 sends). */
  start(outboxFor: (to: number) => OmOutbox): void {
    if (!this.hosted.includes(0)) return;
    for (let i = 1; i < this.#setup.generals; i++) this.#emit(outboxFor, 0, 0, 0, i, this.#setup.orderCode);
  }

  #emit(outboxFor: (to: number) => OmOutbox, sender: number, level: number, index: number, recipient: number, honest: number): void {
    const value = this.#sendValue(sender, level, index, recipient, honest);
    if (value === SILENT) return;
    outboxFor(recipient).push(recipient, index, value);
    this.messages++;
  }

  /** Stores the messages of `round` (paths with round-1 lieutenants). */
  store(round: number, to: Int32Array, index: Uint32Array, value: Uint16Array): void {
    const level = round - 1;
    for (let i = 0; i < to.length; i++) this.#received.get(to[i]!)![level]![index[i]!] = value[i]!;
  }

  /** After storing round r <= m: every hosted lieutenant relays each value it received in round r to those not on its path. */
  relay(round: number, outboxFor: (to: number) => OmOutbox): void {
    const { generals: n } = this.#setup;
    const level = round - 1;
    const path = new Int32Array(level + 1);
    for (const [j, levels] of this.#received) {
      const values = levels[level]!;
      for (let index = 0; index < values.length; index++) {
        decodePath(n, level, index, path);
        if (onPath(path, level, j)) continue;
        const child = childIndex(n, level, index, childRank(j, path, level));
        path[level] = j;
        for (let i = 1; i < n; i++) {
          if (i !== j && !onPath(path, level, i)) this.#emit(outboxFor, j, level + 1, child, i, values[index]!);
        }
      }
    }
  }

  /** Each hosted lieutenant's decision: its tree resolved bottom-up with strict majorities. */
  decide(): [number, number][] {
    const { generals: n, rounds: m, valueCount: k } = this.#setup;
    const counts = Array.from({ length: m + 1 }, () => new Uint32Array(k));
    const path = new Int32Array(m + 1);
    const resolve = (self: number, levels: Uint16Array[], level: number, index: number): number => {
      const own = levels[level]![index]!;
      if (level === m) return own;
      const votes = counts[level]!;
      votes.fill(0);
      votes[own]!++;
      for (let j = 1; j < n; j++) {
        if (j === self || onPath(path, level, j)) continue;
        const child = childIndex(n, level, index, childRank(j, path, level));
        path[level] = j;
        const vote = resolve(self, levels, level + 1, child);
        votes[vote]!++;
      }
      return majorityCode(votes, 0, k, n - 1 - level);
    };
    return [...this.#received].map(([self, levels]) => [self, resolve(self, levels, 0, 0)]);
  }
}

function onPath(path: Int32Array, length: number, general: number): boolean {
  for (let t = 0; t < length; t++) if (path[t] === general) return true;
  return false;
}

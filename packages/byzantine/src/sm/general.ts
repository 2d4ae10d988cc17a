import type { KeyObject } from 'node:crypto';
import { type RunConfig, STRATEGY_CODE } from '../core/config.js';
import { namedTraitorSend, SILENT } from '../core/strategy.js';
import { RETREAT } from '../core/values.js';
import { alter, countersign, type SignedMessage, signOrder, verifyChain } from './signatures.js';

export interface Envelope {
  readonly from: number;
  readonly to: number;
  readonly message: SignedMessage;
}

/** The part of a run's configuration an SM general needs; plain data, so it crosses to worker threads. */
export interface SmSettings {
  readonly generals: number;
  readonly rounds: number;
  readonly traitors: readonly number[];
  readonly order: string;
  readonly strategyCode: number;
  readonly seed: number;
  readonly values: readonly string[];
  /** Neighbour lists of the communication graph; undefined when every pair is connected. */
  readonly neighbours: readonly (readonly number[])[] | undefined;
}

export function smSettings(config: RunConfig): SmSettings {
  return {
    generals: config.generals,
    rounds: config.rounds,
    traitors: config.traitors,
    order: config.order,
    strategyCode: config.strategyCode,
    seed: config.seed,
    values: config.domain.values,
    neighbours: config.neighbours,
  };
}

/** Orders a round's inbox so every engine processes it identically: by signer chain, then value. */
export function compareEnvelopes(a: Envelope, b: Envelope): number {
  const x = a.message.signers;
  const y = b.message.signers;
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  if (x.length !== y.length) return x.length - y.length;
  return a.message.value < b.message.value ? -1 : a.message.value > b.message.value ? 1 : 0;
}

/** A traitor's choice for one recipient: the value code to send, or SILENT. Custom hooks go through `custom`. */
export type TraitorChoice = (sender: number, recipient: number, signers: readonly number[], honest: string) => string | undefined;

/**
 * One general of SM(m) (Lamport, Shostak and Pease, section 4). The commander signs its order
 * and sends it to every lieutenant. A lieutenant that receives a valid chain carrying a value it
 * has not seen adds it to V and, while the chain has at most m signers, countersigns and relays
 * it to every lieutenant not yet on the chain (on a communication graph, every such neighbour:
 * section 5). Invalid chains are discarded. It decides
 * choice(V): the one value if |V| = 1, else RETREAT.
 */
export class SmGeneral {
  readonly #values = new Set<string>();
  discarded = 0;

  constructor(
    readonly id: number,
    private readonly settings: SmSettings,
    private readonly key: KeyObject,
    private readonly publicKeys: readonly KeyObject[],
    private readonly choose: TraitorChoice,
  ) {}

  get traitor(): boolean {
    return this.settings.traitors.includes(this.id);
  }

  /** Round 1: the commander's orders. */
  start(): Envelope[] {
    if (this.id !== 0) return [];
    const out: Envelope[] = [];
    const honest = signOrder(this.settings.order, this.key);
    for (let to = 1; to < this.settings.generals; to++) {
      if (!this.#adjacent(to)) continue;
      if (!this.traitor) {
        out.push({ from: 0, to, message: honest });
        continue;
      }
      const value = this.choose(0, to, [0], this.settings.order);
      if (value !== undefined) out.push({ from: 0, to, message: value === this.settings.order ? honest : signOrder(value, this.key) });
    }
    return out;
  }

  /** Handles the messages of `round` (sorted with compareEnvelopes) and returns those to send in the next round. */
  receive(round: number, inbox: readonly Envelope[]): Envelope[] {
    const out: Envelope[] = [];
    for (const { from, message } of inbox) {
      if (!verifyChain(message, from, this.id, round, this.publicKeys)) {
        this.discarded++;
        continue;
      }
      if (this.#values.has(message.value)) continue;
      this.#values.add(message.value);
      if (message.signers.length > this.settings.rounds) continue;
      for (let to = 1; to < this.settings.generals; to++) {
        if (to === this.id || message.signers.includes(to) || !this.#adjacent(to)) continue;
        const relayed = this.#relay(message, to);
        if (relayed !== undefined) out.push({ from: this.id, to, message: relayed });
      }
    }
    return out;
  }

  /** Whether a message can go to `to` directly: always on a complete graph, else only along an edge. */
  #adjacent(to: number): boolean {
    return this.settings.neighbours === undefined || this.settings.neighbours[this.id]!.includes(to);
  }

  #relay(message: SignedMessage, to: number): SignedMessage | undefined {
    if (!this.traitor) return countersign(message, this.id, this.key);
    const value = this.choose(this.id, to, [...message.signers, this.id], message.value);
    if (value === undefined) return undefined;
    return value === message.value ? countersign(message, this.id, this.key) : alter(message, value, this.id, this.key);
  }

  decision(): string {
    return this.#values.size === 1 ? [...this.#values][0]! : RETREAT;
  }
}

/**
 * The traitor choice for a named strategy. The path index is not meaningful for SM chains, so
 * the random coin is keyed by a hash of the chain instead (the same in every engine).
 */
export function namedChoice(settings: SmSettings): TraitorChoice {
  const code = (value: string) => {
    const found = settings.values.indexOf(value);
    if (found < 0) throw new RangeError(`value '${value}' is not in this run's domain`);
    return found;
  };
  return (_sender, recipient, signers, honest) => {
    let index = 0;
    for (const signer of signers) index = (index * 31 + signer + 1) % 0x7fffffff;
    const sent = namedTraitorSend(settings.strategyCode, settings.seed, signers.length - 1, index, recipient, code(honest));
    return sent === SILENT ? undefined : settings.values[sent];
  };
}

export const isCustom = (settings: SmSettings) => settings.strategyCode === STRATEGY_CODE.custom;

import { ByzantineInputError } from '../core/config.js';
import { ATTACK, RETREAT } from '../core/values.js';
import type { Adjacency } from './distances.js';
import { type RegularSet, regularSet } from './regular.js';

/** What a traitor knows when it chooses what to send one general in OM(m, p). */
export interface RegularLieContext {
  readonly sender: number;
  readonly recipient: number;
  /** What a loyal general would send. */
  readonly honest: string;
  /** The commanders of the nested OM(m, p) calls so far, outermost first. */
  readonly commanders: readonly number[];
}

export interface RegularRunOptions {
  /** Neighbour lists of the communication graph over generals 0..n-1; 0 is the commander. */
  readonly neighbours: Adjacency;
  /** m: the traitors tolerated. */
  readonly rounds: number;
  /** p: the size of the regular sets of neighbours used; Theorem 3 needs p >= 3m. */
  readonly p: number;
  readonly traitors?: readonly number[];
  readonly order?: string;
  /** Every traitor's messages, chosen by one adversary; undefined sends nothing. Default: the opposite value. */
  readonly lie?: (context: RegularLieContext) => string | undefined;
}

export interface RegularRunResult {
  readonly decisions: Readonly<Record<number, string>>;
  readonly loyalDecisions: Readonly<Record<number, string>>;
  readonly messages: number;
  readonly ic1: boolean;
  readonly ic2: boolean;
}

/** The value held by a strict majority, else RETREAT (the paper's default). */
function majority(values: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  for (const [value, count] of counts) if (count * 2 > values.length) return value;
  return RETREAT;
}

/**
 * Algorithm OM(m, p) of section 5 (Lamport, Shostak and Pease 1982), for graphs in which not
 * every pair of generals can talk: the commander sends to its neighbours; each member i of its
 * regular set N of p neighbours passes on what it got, along the disjoint path to every other
 * general when m = 1, or as commander of OM(m - 1, p - 1) without the commander when m > 1; every
 * lieutenant takes the majority over N. By Theorem 3 it satisfies IC1 and IC2 with at most m
 * traitors when p >= 3m. Relays along a path are messages, and a traitor on the path may alter them.
 */
export function runOmRegular(options: RegularRunOptions): RegularRunResult {
  const { neighbours: graph, rounds: m, p } = options;
  const n = graph.length;
  if (!Number.isSafeInteger(m) || m < 1) throw new ByzantineInputError('rounds', `OM(m, p) needs m >= 1, got ${String(m)}`);
  if (!Number.isSafeInteger(p) || p < 1) throw new ByzantineInputError('p', `must be a positive integer, got ${String(p)}`);
  const traitor = new Set(options.traitors ?? []);
  const order = options.order ?? ATTACK;
  const lie = options.lie ?? (({ honest }) => (honest === RETREAT ? ATTACK : RETREAT));
  let messages = 0;
  const send = (sender: number, recipient: number, honest: string, commanders: readonly number[]): string => {
    messages++;
    if (!traitor.has(sender)) return honest;
    return lie({ sender, recipient, honest, commanders }) ?? RETREAT;
  };
  const setOf = (active: ReadonlySet<number>, commander: number, size: number): RegularSet => {
    const found = regularSet(graph, active, commander, size);
    if (!found)
      throw new ByzantineInputError(
        'graph',
        `general ${commander} has no regular set of ${size} neighbours among ${[...active].join(', ')}: the graph is not ${size}-regular there`,
      );
    return found;
  };

  /** What each general of `active` other than the commander uses as the commander's value. */
  const om = (commander: number, value: string, active: ReadonlySet<number>, depth: number, size: number, commanders: number[]) => {
    const chain = [...commanders, commander];
    const set = setOf(active, commander, size);
    const direct = new Map<number, string>();
    for (const w of graph[commander]!) if (active.has(w)) direct.set(w, send(commander, w, value, chain));
    const rest = new Set([...active].filter((id) => id !== commander));
    const heard = new Map<number, ReadonlyMap<number, string>>();
    for (const [j, i] of set.members.entries()) {
      const held = direct.get(i) ?? RETREAT;
      if (depth === 1) {
        const got = new Map<number, string>();
        for (const k of rest) {
          if (k === i) continue;
          const path = set.paths.get(k)![j]!;
          let carried = held;
          for (let hop = 0; hop + 1 < path.length; hop++) carried = send(path[hop]!, path[hop + 1]!, carried, chain);
          got.set(k, carried);
        }
        heard.set(i, got);
      } else heard.set(i, om(i, held, rest, depth - 1, size - 1, chain));
    }
    const uses = new Map<number, string>();
    for (const k of rest) {
      uses.set(k, majority(set.members.map((i) => (i === k ? (direct.get(k) ?? RETREAT) : (heard.get(i)?.get(k) ?? RETREAT)))));
    }
    return uses;
  };

  const everyone = new Set(Array.from({ length: n }, (_, id) => id));
  const uses = om(0, order, everyone, m, p, []);
  const decisions: Record<number, string> = {};
  const loyalDecisions: Record<number, string> = {};
  for (const [id, value] of [...uses].sort((a, b) => a[0] - b[0])) {
    decisions[id] = value;
    if (!traitor.has(id)) loyalDecisions[id] = value;
  }
  const loyal = Object.values(loyalDecisions);
  return {
    decisions,
    loyalDecisions,
    messages,
    ic1: loyal.every((v) => v === loyal[0]),
    ic2: traitor.has(0) || loyal.every((v) => v === order),
  };
}

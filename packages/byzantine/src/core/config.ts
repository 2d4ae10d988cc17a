import { type Adjacency, diameter } from '../graph/distances.js';
import { ATTACK, ValueDomain } from './values.js';

export type Algorithm = 'om' | 'sm';
export type EngineName = 'fast' | 'actors';
export type StrategyName = 'honest' | 'silent' | 'flip' | 'random' | 'parity';
export const STRATEGY_NAMES: readonly StrategyName[] = ['honest', 'silent', 'flip', 'random', 'parity'];

/** What a traitor knows when it decides what to send one recipient. */
export interface SendContext {
  readonly algorithm: Algorithm;
  readonly sender: number;
  readonly recipient: number;
  /** The generals the message has passed through, from the commander 0 to the sender. */
  readonly path: readonly number[];
  /** 1 for the commander's order, 2 for the first relay, ... */
  readonly round: number;
  /** What a loyal general would send. */
  readonly honest: string;
}

/** A traitor strategy written in code: return the value to send, or undefined to send nothing. */
export interface CustomStrategy {
  readonly name: string;
  /** Values it may send besides ATTACK, RETREAT and the order. */
  readonly values?: readonly string[];
  send(context: SendContext): string | undefined;
}

export type Strategy = StrategyName | CustomStrategy;

export interface RunOptions {
  /** n, the number of generals including the commander (general 0). */
  readonly generals: number;
  /** m, the number of traitors the algorithm is run for (OM(m), SM(m)). */
  readonly rounds: number;
  readonly traitors?: readonly number[];
  readonly order?: string;
  /** How traitors behave. Default `flip`. */
  readonly strategy?: Strategy;
  readonly algorithm?: Algorithm;
  readonly engine?: EngineName;
  /** Seed of the `random` strategy. Default 1. */
  readonly seed?: number;
  /** Allow OM with n <= 3m (and SM with n < m + 2), or more than m traitors, where agreement is not guaranteed. */
  readonly unsafe?: boolean;
  /** Worker threads of the actor engine. Default: the machine's available parallelism. */
  readonly workers?: number;
  /** Refuse runs that would send more messages than this. Default 2,000,000,000. */
  readonly maxMessages?: number;
  /**
   * The communication graph as undirected edges `[a, b]`, when not every pair of generals can
   * talk (the paper's section 5). SM only: messages travel along edges, and SM(m + d - 1)
   * reaches agreement when the loyal generals form a connected subgraph of diameter d (Theorem 4).
   */
  readonly graph?: readonly (readonly [number, number])[];
}

/** A bad argument; `field` names it (`generals`, `traitors`, ...). */
export class ByzantineInputError extends Error {
  override name = 'ByzantineInputError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

export const STRATEGY_CODE = { honest: 0, silent: 1, flip: 2, random: 3, parity: 4, custom: 5 } as const;

/** The validated, normalised form of RunOptions that engines take. */
export interface RunConfig {
  readonly algorithm: Algorithm;
  readonly engine: EngineName;
  readonly generals: number;
  readonly rounds: number;
  readonly traitors: readonly number[];
  readonly order: string;
  readonly strategyName: string;
  readonly strategyCode: number;
  readonly custom: CustomStrategy | undefined;
  readonly seed: number;
  readonly unsafe: boolean;
  readonly workers: number | undefined;
  readonly domain: ValueDomain;
  /** Neighbour lists; undefined when every pair of generals is connected. */
  readonly neighbours: Adjacency | undefined;
}

/** Reads an edge list `[[a, b], ...]` into neighbour lists; every error names the edge. */
export function adjacencyOf(edges: unknown, generals: number): Adjacency {
  if (!Array.isArray(edges)) throw new ByzantineInputError('graph', 'must be a list of edges [a, b]');
  const sets = Array.from({ length: generals }, () => new Set<number>());
  edges.forEach((edge, i) => {
    if (!Array.isArray(edge) || edge.length !== 2) throw new ByzantineInputError(`graph[${i}]`, 'must be an edge [a, b]');
    const [a, b] = edge as unknown[];
    for (const end of [a, b]) {
      if (typeof end !== 'number' || !Number.isSafeInteger(end) || end < 0 || end >= generals)
        throw new ByzantineInputError(`graph[${i}]`, `general ${String(end)} is out of range 0..${generals - 1}`);
    }
    if (a === b) throw new ByzantineInputError(`graph[${i}]`, `joins general ${String(a)} to itself`);
    sets[a as number]!.add(b as number);
    sets[b as number]!.add(a as number);
  });
  return sets.map((set) => [...set].sort((x, y) => x - y));
}

function integer(value: unknown, field: string, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value))
    throw new ByzantineInputError(field, `must be an integer, got ${String(value)}`);
  if (value < min) throw new ByzantineInputError(field, `must be at least ${min}, got ${value}`);
  return value;
}

function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) throw new ByzantineInputError(field, `must be one of ${allowed.join(', ')}, got ${String(value)}`);
  return value as T;
}

function strategyOf(value: unknown): { name: string; code: number; custom: CustomStrategy | undefined } {
  if (value === undefined) return { name: 'flip', code: STRATEGY_CODE.flip, custom: undefined };
  if (typeof value === 'string') {
    const name = oneOf(value, 'strategy', STRATEGY_NAMES, 'flip');
    return { name, code: STRATEGY_CODE[name], custom: undefined };
  }
  const custom = value as Partial<CustomStrategy> | null;
  if (
    custom === null ||
    typeof custom !== 'object' ||
    typeof custom.send !== 'function' ||
    typeof custom.name !== 'string' ||
    custom.name === ''
  ) {
    throw new ByzantineInputError('strategy', `must be one of ${STRATEGY_NAMES.join(', ')} or { name, send(context) }`);
  }
  if (custom.values !== undefined && (!Array.isArray(custom.values) || custom.values.some((v) => typeof v !== 'string' || v === ''))) {
    throw new ByzantineInputError('strategy.values', 'must be a list of non-empty strings');
  }
  return { name: custom.name, code: STRATEGY_CODE.custom, custom: custom as CustomStrategy };
}

/** Validates options; every error names its field. */
export function configure(options: RunOptions): RunConfig {
  if (options === null || typeof options !== 'object') throw new ByzantineInputError('options', 'must be an object');
  const algorithm = oneOf(options.algorithm, 'algorithm', ['om', 'sm'] as const, 'om');
  const engine = oneOf(options.engine, 'engine', ['fast', 'actors'] as const, 'fast');
  const generals = integer(options.generals, 'generals', 2);
  const rounds = integer(options.rounds, 'rounds', 0);
  const traitors = options.traitors ?? [];
  if (!Array.isArray(traitors)) throw new ByzantineInputError('traitors', 'must be a list of general ids');
  for (const id of traitors) {
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0 || id >= generals) {
      throw new ByzantineInputError('traitors', `general ${String(id)} is out of range 0..${generals - 1}`);
    }
  }
  if (new Set(traitors).size !== traitors.length) throw new ByzantineInputError('traitors', 'lists a general twice');
  const order = options.order ?? ATTACK;
  if (typeof order !== 'string' || order.length === 0) throw new ByzantineInputError('order', 'must be a non-empty string');
  const strategy = strategyOf(options.strategy);
  const seed = options.seed === undefined ? 1 : integer(options.seed, 'seed', 0);
  if (seed > 0xffffffff) throw new ByzantineInputError('seed', 'must fit in 32 bits (0..4294967295)');
  const unsafe = options.unsafe === true;
  if (algorithm === 'om' && generals <= 3 * rounds && !unsafe) {
    throw new ByzantineInputError(
      'generals',
      `OM(${rounds}) needs more than 3m = ${3 * rounds} generals, got ${generals} (pass unsafe to run it anyway)`,
    );
  }
  // On a graph the rounds are m + d - 1 (Theorem 4), checked below, and this bound does not apply.
  if (algorithm === 'sm' && options.graph === undefined && generals < rounds + 2 && !unsafe) {
    throw new ByzantineInputError(
      'generals',
      `SM(${rounds}) needs at least m + 2 = ${rounds + 2} generals, got ${generals} (pass unsafe to run it anyway)`,
    );
  }
  // OM(m) and SM(m) are proven for at most m traitors; with more, agreement can fail at any n.
  if (traitors.length > rounds && !unsafe) {
    throw new ByzantineInputError(
      'traitors',
      `${algorithm.toUpperCase()}(${rounds}) tolerates at most m = ${rounds} traitors, got ${traitors.length} (pass unsafe to run it anyway)`,
    );
  }
  const neighbours = options.graph === undefined ? undefined : adjacencyOf(options.graph, generals);
  if (neighbours !== undefined) {
    if (algorithm !== 'sm')
      throw new ByzantineInputError(
        'graph',
        'a communication graph is supported for SM here; run OM on a p-regular graph with runOmRegular',
      );
    const loyal = Array.from({ length: generals }, (_, id) => id).filter((id) => !traitors.includes(id));
    const d = diameter(neighbours, loyal);
    if (d === Number.POSITIVE_INFINITY && !unsafe)
      throw new ByzantineInputError(
        'graph',
        'the loyal generals do not form a connected subgraph, so no algorithm can reach them all (pass unsafe to run it anyway)',
      );
    const needed = traitors.length + d - 1;
    if (rounds < needed && !unsafe)
      throw new ByzantineInputError(
        'rounds',
        `SM on this graph needs m + d - 1 = ${needed} rounds (m = ${traitors.length} traitors, loyal diameter d = ${d}), got ${rounds} (pass unsafe to run it anyway)`,
      );
  }
  const workers = options.workers === undefined ? undefined : integer(options.workers, 'workers', 1);
  const maxMessages = options.maxMessages === undefined ? 2_000_000_000 : integer(options.maxMessages, 'maxMessages', 1);
  if (algorithm === 'om') {
    let expected = 0;
    for (let k = 1, level = 1; k <= rounds + 1 && expected <= maxMessages; k++) {
      level *= Math.max(generals - k, 0);
      expected += level;
    }
    if (expected > maxMessages) {
      throw new ByzantineInputError(
        'rounds',
        `OM(${rounds}) with ${generals} generals sends more than ${maxMessages} messages (raise maxMessages to allow it)`,
      );
    }
  }
  return {
    algorithm,
    engine,
    generals,
    rounds,
    traitors: [...traitors].sort((a, b) => a - b),
    order,
    strategyName: strategy.name,
    strategyCode: strategy.code,
    custom: strategy.custom,
    seed,
    unsafe,
    workers,
    domain: new ValueDomain(order, strategy.custom?.values),
    neighbours,
  };
}

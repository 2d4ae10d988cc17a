import type { Algorithm, EngineName, RunConfig } from './config.js';

export interface RunResult {
  readonly algorithm: Algorithm;
  readonly engine: EngineName;
  readonly generals: number;
  readonly rounds: number;
  readonly traitors: readonly number[];
  readonly order: string;
  readonly strategy: string;
  readonly seed: number;
  /** Every lieutenant's decision, traitors included, keyed by id. */
  readonly decisions: Readonly<Record<string, string>>;
  /** Decisions of the loyal lieutenants only. */
  readonly loyalDecisions: Readonly<Record<string, string>>;
  /** Messages actually sent (a silent traitor sends none; forged SM messages count). */
  readonly messages: number;
  /** IC1: every loyal lieutenant decided the same value. */
  readonly ic1: boolean;
  /** IC2: if the commander is loyal, every loyal lieutenant decided its order (vacuously true otherwise). */
  readonly ic2: boolean;
  readonly commanderLoyal: boolean;
  /** SM only: messages discarded because their signature chain did not verify. */
  readonly discarded: number;
  /** Wall-clock time of the algorithm alone (no start-up, key generation or worker spawning). */
  readonly algorithmMs: number;
}

/** What an engine computes; checks and bookkeeping are added by `finish`. */
export interface EngineOutput {
  /** Value code decided by each general (index 0, the commander, is ignored). */
  readonly decisions: ArrayLike<number>;
  readonly messages: number;
  readonly discarded: number;
  readonly algorithmMs: number;
}

/** Checks IC1 and IC2 on the engine's decisions and builds the result. */
export function finish(config: RunConfig, output: EngineOutput): RunResult {
  const traitor = new Set(config.traitors);
  const decisions: Record<string, string> = {};
  const loyalDecisions: Record<string, string> = {};
  for (let id = 1; id < config.generals; id++) {
    const value = config.domain.value(output.decisions[id]!);
    decisions[id] = value;
    if (!traitor.has(id)) loyalDecisions[id] = value;
  }
  const loyal = Object.values(loyalDecisions);
  const commanderLoyal = !traitor.has(0);
  return {
    algorithm: config.algorithm,
    engine: config.engine,
    generals: config.generals,
    rounds: config.rounds,
    traitors: config.traitors,
    order: config.order,
    strategy: config.strategyName,
    seed: config.seed,
    decisions,
    loyalDecisions,
    messages: output.messages,
    ic1: loyal.every((value) => value === loyal[0]),
    ic2: !commanderLoyal || loyal.every((value) => value === config.order),
    commanderLoyal,
    discarded: output.discarded,
    algorithmMs: output.algorithmMs,
  };
}

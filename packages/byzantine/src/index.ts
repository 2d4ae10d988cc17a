export { type CollusionPlan, colludingAdversary } from './core/collusion.js';
export {
  type Algorithm,
  ByzantineInputError,
  type CustomStrategy,
  configure,
  type EngineName,
  type RunConfig,
  type RunOptions,
  type SendContext,
  STRATEGY_NAMES,
  type Strategy,
  type StrategyName,
} from './core/config.js';
export { omMessageCount, omMessagesSentBy } from './core/paths.js';
export type { RunResult } from './core/result.js';
export { ATTACK, RETREAT } from './core/values.js';
export type { Adjacency } from './graph/distances.js';
export { type RegularLieContext, type RegularRunOptions, type RegularRunResult, runOmRegular } from './graph/om-regular.js';
export { isRegular, type RegularSet, regularSet } from './graph/regular.js';
export {
  ARTICLE_GENERALS,
  type BenchCase,
  type BenchPlan,
  type BenchRow,
  benchCases,
  benchRow,
  benchTraitors,
  CSV_HEADER,
  csvLine,
  FURTHER_GENERALS,
  type ProcessCommand,
  wholeProcessMs,
} from './report/bench.js';
export { renderBenchChart } from './report/chart.js';
export { runByzantine } from './run.js';

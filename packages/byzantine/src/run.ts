import { runActors } from './actors/engine.js';
import { configure, type RunConfig, type RunOptions } from './core/config.js';
import { type EngineOutput, finish, type RunResult } from './core/result.js';
import { runOmFast } from './om/fast.js';
import { runSmFast } from './sm/fast.js';
import { generateKeyRing } from './sm/signatures.js';

/** Runs OM(m) or SM(m) on the chosen engine and checks IC1 and IC2 on the outcome. */
export async function runByzantine(options: RunOptions): Promise<RunResult> {
  const config = configure(options);
  return finish(config, await execute(config));
}

async function execute(config: RunConfig): Promise<EngineOutput> {
  const keys = config.algorithm === 'sm' ? generateKeyRing(config.generals) : undefined;
  if (config.engine === 'actors') return runActors(config, keys);
  return config.algorithm === 'om' ? runOmFast(config) : runSmFast(config, keys!);
}

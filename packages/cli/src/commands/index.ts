import type { RegisterCommands } from '../context.js';
import { registerAnt } from './ant/index.js';
import { registerAudit } from './audit/index.js';
import { registerInfo } from './info.js';
import { registerOrchestrator } from './orchestrator/index.js';
import { registerOrg } from './org/index.js';
import { registerQuota } from './quota/index.js';
import { registerSecret } from './secret/index.js';
import { registerToken } from './token/index.js';
import { registerUser } from './user/index.js';

/** Command families registered on every run: their modules import their libraries only inside actions. */
export const commandFamilies: readonly RegisterCommands[] = [
  registerInfo,
  registerOrchestrator,
  // After the orchestrator's: it adds `drain` to its `ants` list command.
  registerAnt,
  registerToken,
  registerOrg,
  registerQuota,
  registerSecret,
  registerUser,
  registerAudit,
];

/**
 * Families whose modules import a whole library when they load (the post-mortem linter with its Markdown
 * parser, the simulator with its charts): registered only when their word starts the command line, or for
 * help, so `myrmex status` does not pay for them. The key is the family's top-level command.
 */
export const lazyCommandFamilies: Readonly<Record<string, () => Promise<RegisterCommands>>> = {
  postmortem: async () => (await import('./postmortem/index.js')).registerPostmortem,
  byzantine: async () => (await import('./byzantine/index.js')).registerByzantine,
  sim: async () => (await import('./sim/index.js')).registerSim,
  saga: async () => (await import('./saga/index.js')).registerSaga,
};

import type { RegisterCommands } from '../context.js';
import { registerAnt } from './ant/index.js';
import { registerAudit } from './audit/index.js';
import { registerByzantine } from './byzantine/index.js';
import { registerInfo } from './info.js';
import { registerOrchestrator } from './orchestrator/index.js';
import { registerOrg } from './org/index.js';
import { registerPostmortem } from './postmortem/index.js';
import { registerSaga } from './saga/index.js';
import { registerSim } from './sim/index.js';
import { registerToken } from './token/index.js';
import { registerUser } from './user/index.js';

/** Every command family of the myrmex binary; a package's family is added here when it lands. */
export const commandFamilies: readonly RegisterCommands[] = [
  registerInfo,
  registerOrchestrator,
  // After the orchestrator's: it adds `drain` to its `ants` list command.
  registerAnt,
  registerPostmortem,
  registerByzantine,
  registerSim,
  registerSaga,
  registerToken,
  registerOrg,
  registerUser,
  registerAudit,
];

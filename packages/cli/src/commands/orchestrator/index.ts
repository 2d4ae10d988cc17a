import type { RegisterCommands } from '../../context.js';
import { registerListCommands } from '../lists/index.js';
import { registerTopCommand } from '../top/index.js';
import { registerApprovalCommands } from './approvals.js';
import { registerArtifactCommands } from './artifacts.js';
import { registerBulkCommand } from './bulk.js';
import { registerDeadLetterCommands } from './dead-letters.js';
import { registerDefinitionCommands } from './definitions.js';
import { registerGuardCommands } from './guards.js';
import { registerLogCommands } from './logs.js';
import { registerMigrateStoreCommand } from './migrate-store.js';
import { registerRequestCommands } from './requests.js';
import { registerServeCommand } from './serve.js';

/** The orchestrator's commands sit at the top level (`myrmex submit ...`): it is Myrmex's main job. */
export const registerOrchestrator: RegisterCommands = (program, context) => {
  registerServeCommand(program, context);
  registerDefinitionCommands(program, context);
  registerRequestCommands(program, context);
  registerBulkCommand(program, context);
  registerLogCommands(program, context);
  registerArtifactCommands(program, context);
  registerApprovalCommands(program, context);
  registerDeadLetterCommands(program, context);
  registerGuardCommands(program, context);
  registerTopCommand(program, context);
  registerListCommands(program, context);
  registerMigrateStoreCommand(program, context);
};

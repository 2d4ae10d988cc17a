import type { RegisterCommands } from '../../context.js';
import { registerBench } from './bench.js';
import { registerRun } from './run.js';

/** `myrmex byzantine run | bench`. */
export const registerByzantine: RegisterCommands = (program, context) => {
  const family = program.command('byzantine').description('the Byzantine Generals algorithms OM(m) and SM(m): run once, or benchmark');
  registerRun(family, context);
  registerBench(family, context);
};

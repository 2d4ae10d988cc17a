import type { RegisterCommands } from '../../context.js';
import { registerActions } from './actions.js';
import { registerLint } from './lint.js';
import { registerNew } from './new.js';
import { registerPatterns } from './patterns.js';

/** `myrmex postmortem new | lint | actions | patterns`. */
export const registerPostmortem: RegisterCommands = (program, context) => {
  const family = program
    .command('postmortem')
    .description('post-mortem documents: templates, the reviewer, action tracking, recurring patterns');
  registerNew(family, context);
  registerLint(family, context);
  registerActions(family, context);
  registerPatterns(family, context);
};

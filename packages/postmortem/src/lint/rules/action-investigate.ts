import { z } from 'zod';
import { defineRule } from '../rule.js';
import { findPhrase } from '../text.js';
import { eachAction } from './each-action.js';
import { phrases } from './options.js';

export const actionInvestigate = defineRule({
  id: 'action-investigate',
  severity: 'error',
  summary: 'An action item starts with "investigate" (or "look into", "explore", "evaluate").',
  why: 'An investigation is thinking not yet done; it should happen while the post-mortem is written, and the action is the change it leads to.',
  hint: 'Do the investigation now and write the specific change it leads to, with its owner and deadline.',
  options: z
    .object({ verbs: phrases(['investigate', 'look into', 'explore', 'research', 'evaluate', 'consider', 'analyse', 'analyze']) })
    .strict(),
  check(context, options) {
    return eachAction(context, 'description', (action) => {
      const verb = findPhrase(action.description, options.verbs);
      return verb?.index === 0 ? `starts with "${verb.phrase}"` : undefined;
    });
  },
});

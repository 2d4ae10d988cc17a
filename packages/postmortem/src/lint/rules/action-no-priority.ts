import { z } from 'zod';
import { defineRule } from '../rule.js';
import { eachAction } from './each-action.js';

export const actionNoPriority = defineRule({
  id: 'action-no-priority',
  severity: 'error',
  summary: 'An action item has no priority, or one outside High / Medium / Low.',
  why: 'Priorities say which actions fix what hurt customers (High), which speed detection and mitigation (Medium) and which are nice to have (Low).',
  hint: 'Set High for root-cause fixes, Medium for detection and mitigation, Low for the rest.',
  options: z.object({ priorities: z.array(z.string().min(1)).min(1).default(['High', 'Medium', 'Low']) }).strict(),
  check(context, options) {
    const allowed = options.priorities.map((p) => p.toLowerCase());
    return eachAction(context, 'priority', (action) => {
      const priority = action.priority.trim();
      if (priority === '') return 'has no priority';
      return allowed.includes(priority.toLowerCase()) ? undefined : `priority "${priority}" is not one of ${options.priorities.join(', ')}`;
    });
  },
});

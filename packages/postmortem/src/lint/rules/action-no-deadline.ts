import { defineRule } from '../rule.js';
import { isDate } from '../time.js';
import { eachAction } from './each-action.js';
import { none } from './options.js';

export const actionNoDeadline = defineRule({
  id: 'action-no-deadline',
  severity: 'error',
  summary: 'An action item has no deadline, or one that is not a date (YYYY-MM-DD).',
  why: 'Without a date an action cannot be tracked or found overdue, so it quietly never happens.',
  hint: 'Set a realistic date as YYYY-MM-DD; most actions should finish within 45 days.',
  options: none,
  check: (context) =>
    eachAction(context, 'deadline', (action) => {
      if (action.deadline.trim() === '') return 'has no deadline';
      return isDate(action.deadline) ? undefined : `deadline "${action.deadline}" is not a date (YYYY-MM-DD)`;
    }),
});

import { defineRule } from '../rule.js';
import { instant, isDate } from '../time.js';
import { eachAction } from './each-action.js';
import { none } from './options.js';

export const actionDeadlineBeforeIncident = defineRule({
  id: 'action-deadline-before-incident',
  severity: 'error',
  summary: 'An action item is due before the incident began: a mistyped year or month.',
  why: 'A deadline in the past is overdue from the day it is written, so tracking flags it at once and nobody knows the real date.',
  hint: 'Correct the deadline (YYYY-MM-DD) to the day the work will be done, after the incident.',
  options: none,
  check(context) {
    const fm = context.doc.frontMatter;
    const began = fm.incident_start ?? fm.impact_start ?? fm.detected_at;
    const start = instant(began);
    if (start === undefined) return [];
    // Compared by calendar day in UTC: a deadline on the incident's own day is allowed.
    const startDay = Math.floor(start / 86_400_000) * 86_400_000;
    return eachAction(context, 'deadline', (action) => {
      const due = isDate(action.deadline) ? instant(action.deadline) : undefined;
      return due !== undefined && due < startDay ? `deadline ${action.deadline} is before the incident began (${began})` : undefined;
    });
  },
});

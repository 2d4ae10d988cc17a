import { z } from 'zod';
import { defineRule } from '../rule.js';
import { instant, isDate } from '../time.js';
import { eachAction } from './each-action.js';

const DAY = 86_400_000;

export const actionDeadlineTooFar = defineRule({
  id: 'action-deadline-too-far',
  severity: 'warning',
  summary: 'An action item is due more than 45 days after publication (or the draft, if unpublished).',
  why: 'Long deadlines are backlog items in disguise; a post-mortem is not the place for a multi-year architecture wish list.',
  hint: 'Break the work into a step that finishes within the limit, or move it to the regular backlog.',
  options: z.object({ maxDays: z.number().int().positive().default(45) }).strict(),
  check(context, options) {
    const fm = context.doc.frontMatter;
    const base = instant(fm.published_at ?? fm.draft_created_at ?? fm.resolved_at);
    if (base === undefined) return [];
    return eachAction(context, 'deadline', (action) => {
      const due = isDate(action.deadline) ? instant(action.deadline) : undefined;
      if (due === undefined) return undefined;
      const days = Math.floor((due - base) / DAY);
      return days > options.maxDays ? `deadline ${action.deadline} is ${days} days out, more than ${options.maxDays}` : undefined;
    });
  },
});

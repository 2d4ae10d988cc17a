import { defineRule } from '../rule.js';
import { eachAction } from './each-action.js';
import { none } from './options.js';

export const actionUnlinked = defineRule({
  id: 'action-unlinked',
  severity: 'warning',
  summary: 'An action item addresses no lesson learned, or refers to a lesson that does not exist.',
  why: 'Linking actions to lessons shows every lesson leads to a change and every change has a reason.',
  hint: 'Put the numbers of the lessons the action addresses in its Lessons column ("1, 3").',
  options: none,
  check(context) {
    const numbers = new Set((context.doc.lessons?.items ?? []).map((lesson) => lesson.number).filter((n) => n !== null));
    return eachAction(context, 'lessons', (action) => {
      if (action.lessons.length === 0) return 'addresses no lesson';
      const unknown = numbers.size === 0 ? [] : action.lessons.filter((n) => !numbers.has(n));
      return unknown.length > 0 ? `refers to lesson ${unknown.join(', ')}, which does not exist` : undefined;
    });
  },
});

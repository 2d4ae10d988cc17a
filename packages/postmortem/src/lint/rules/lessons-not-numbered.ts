import { defineRule } from '../rule.js';
import { none } from './options.js';

export const lessonsNotNumbered = defineRule({
  id: 'lessons-not-numbered',
  severity: 'warning',
  summary: 'Lessons learned are bullets or prose, not a numbered list.',
  why: 'Action items link to lessons by number; without numbers nobody can check that every lesson leads to a change.',
  hint: 'Write the lessons as a numbered list (1., 2., ...) and refer to them from the Lessons column of the action items.',
  options: none,
  check(context) {
    const lessons = context.doc.lessons;
    if (!lessons || lessons.ordered) return [];
    if (lessons.items.length === 0 && lessons.intro === '') return [];
    return [{ message: 'the lessons learned are not a numbered list', at: context.at('/lessons/items/0', '/sections/lessons') }];
  },
});

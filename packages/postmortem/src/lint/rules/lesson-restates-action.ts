import { z } from 'zod';
import { defineRule, type Report } from '../rule.js';
import { contentWords, similarity } from '../text.js';

export const lessonRestatesAction = defineRule({
  id: 'lesson-restates-action',
  severity: 'warning',
  summary: 'A lesson learned says the same as an action item instead of stating a principle other teams can apply.',
  why: 'Action items are the specific changes; lessons are what the rest of the organisation should learn. A restated action teaches nobody else.',
  hint: 'Generalise: not "add connection pool monitoring" but "monitor saturation of every constrained resource, not only error rates".',
  options: z.object({ threshold: z.number().gt(0).max(1).default(0.5) }).strict(),
  check(context, options) {
    const actions = (context.doc.actions?.items ?? []).map((a) => ({ id: a.id, words: contentWords(a.description) }));
    const reports: Report[] = [];
    (context.doc.lessons?.items ?? []).forEach((lesson, i) => {
      const words = contentWords(lesson.text);
      const twin = actions.find((action) => similarity(words, action.words) >= options.threshold);
      if (twin)
        reports.push({
          message: `lesson ${lesson.number ?? i + 1} restates action item ${twin.id}`,
          at: context.at(`/lessons/items/${i}`),
        });
    });
    return reports;
  },
});

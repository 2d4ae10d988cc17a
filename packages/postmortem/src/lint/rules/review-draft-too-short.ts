import { z } from 'zod';
import { defineRule } from '../rule.js';
import { instant } from '../time.js';

export const reviewDraftTooShort = defineRule({
  id: 'review-draft-too-short',
  severity: 'warning',
  summary: 'The post-mortem was published less than 24 hours after its draft was created.',
  why: 'Stakeholders in other time zones and on leave need a day to read the draft and object before it becomes the record.',
  hint: 'Keep it in draft or in review for at least 24 hours, longer across holidays.',
  options: z.object({ minHours: z.number().positive().default(24) }).strict(),
  check(context, options) {
    const fm = context.doc.frontMatter;
    const draft = instant(fm.draft_created_at);
    const published = instant(fm.published_at);
    if (draft === undefined || published === undefined) return [];
    const hours = (published - draft) / 3_600_000;
    if (hours >= options.minHours) return [];
    return [
      {
        message: `published ${hours.toFixed(1)} hours after the draft, less than ${options.minHours}`,
        at: context.at('/frontMatter/published_at'),
      },
    ];
  },
});

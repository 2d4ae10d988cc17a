import { z } from 'zod';
import { reviewersOf, STATUSES } from '../../model/schema.js';
import { defineRule } from '../rule.js';

export const reviewMissingBarRaiser = defineRule({
  id: 'review-missing-bar-raiser',
  severity: 'error',
  summary: 'A post-mortem in review or published has no bar raiser among its reviewers, or the bar raiser is an author.',
  why: 'An experienced reviewer from another team checks that outsiders can learn from it, the analysis is deep enough and the actions are specific and owned.',
  hint: 'Add `reviewers: { bar_raiser: <name> }` (or a reviewer `{ name: <name>, bar_raiser: true }` in a list) with someone outside the owning team who did not write it.',
  options: z.object({ statuses: z.array(z.enum(STATUSES)).default(['in-review', 'published', 'closed']) }).strict(),
  check(context, options) {
    const fm = context.doc.frontMatter;
    if (!fm.status || !options.statuses.includes(fm.status)) return [];
    const { barRaisers } = reviewersOf(fm);
    const at = context.at('/frontMatter/reviewers', '/frontMatter/status', '/frontMatter');
    if (barRaisers.length === 0) return [{ message: `the post-mortem is ${fm.status} without a bar raiser`, at }];
    const authors = new Set((fm.authors ?? []).map((a) => a.toLowerCase()));
    const independent = barRaisers.filter((name) => !authors.has(name.toLowerCase()));
    if (independent.length === 0) return [{ message: `the bar raiser ${barRaisers.join(', ')} is also an author`, at }];
    return [];
  },
});

import { z } from 'zod';
import { defineRule, type Report } from '../rule.js';
import { findPhrase } from '../text.js';
import { entryMinutes } from '../time.js';
import { phrases } from './options.js';

export const timelineGap = defineRule({
  id: 'timeline-gap',
  severity: 'warning',
  summary: 'More than 15 minutes pass between two timeline entries and neither says why.',
  why: 'Unexplained gaps are where the slow parts of the response hide: waiting for access, for an approver, for a dashboard.',
  hint: 'Add what happened in between, or say the time was spent waiting, monitoring or investigating ("gap: waiting for the database team").',
  options: z
    .object({
      maxMinutes: z.number().positive().default(15),
      explanations: phrases([
        'gap',
        'waiting',
        'waited',
        'no change',
        'continued',
        'continues',
        'monitoring',
        'still',
        'in progress',
        'meanwhile',
      ]),
    })
    .strict(),
  check(context, options) {
    const entries = context.doc.timeline?.entries ?? [];
    const minutes = entryMinutes(entries);
    const reports: Report[] = [];
    for (let i = 1; i < entries.length; i++) {
      const before = minutes[i - 1];
      const after = minutes[i];
      if (before === undefined || after === undefined || after - before <= options.maxMinutes) continue;
      const explained = [entries[i - 1], entries[i]].some((entry) => entry && findPhrase(entry.text, options.explanations));
      if (explained) continue;
      reports.push({
        message: `${Math.round(after - before)} minutes pass between ${entries[i - 1]?.time} and ${entries[i]?.time} without an explanation`,
        at: context.at(`/timeline/entries/${i}`),
      });
    }
    return reports;
  },
});

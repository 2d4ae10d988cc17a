import { z } from 'zod';
import { defineRule } from '../rule.js';
import { findPhrase } from '../text.js';
import { phrases } from './options.js';

export const timelineStartsLate = defineRule({
  id: 'timeline-starts-late',
  severity: 'warning',
  summary: 'The timeline begins with the alert or the page, not with the trigger (deployment, configuration change, traffic spike).',
  why: 'The time between the trigger and the alert is detection time; a timeline that starts at the page hides it.',
  hint: 'Start with the first event that led to the problem ("09:12 - Release 4.18.0 starts rolling out") and let the alert follow.',
  options: z
    .object({
      alertWords: phrases([
        'alert*',
        'paged',
        'page',
        'pages',
        'alarm*',
        'on-call',
        'oncall',
        'customer report*',
        'support ticket*',
        'noticed',
        'detected',
      ]),
    })
    .strict(),
  check(context, options) {
    const entries = context.doc.timeline?.entries ?? [];
    const index = entries.findIndex((entry) => entry.time !== null);
    const first = entries[index];
    if (!first) return [];
    const alert = findPhrase(first.text, options.alertWords);
    if (!alert) return [];
    return [
      {
        message: `the timeline starts with the response ("${alert.phrase}"), not with the trigger`,
        at: context.at(`/timeline/entries/${index}`),
      },
    ];
  },
});

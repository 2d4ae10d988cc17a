import { z } from 'zod';
import { defineRule } from '../rule.js';
import { findPhrase } from '../text.js';
import { phrases } from './options.js';

export const timelineMissingMilestones = defineRule({
  id: 'timeline-missing-milestones',
  severity: 'error',
  summary: 'The timeline lacks a detection, escalation, mitigation or resolution entry.',
  why: 'Time to detect, to escalate, to mitigate and to resolve are what the response analysis measures; without the entries they cannot be computed.',
  hint: 'Add an entry for each milestone and bold the major ones: the alert, the escalation, the mitigation, the return to baseline.',
  options: z
    .object({
      detection: phrases(['alert*', 'detected', 'detection', 'paged', 'alarm*', 'noticed', 'reported']),
      escalation: phrases([
        'escalat*',
        'sev-1',
        'sev-2',
        'sev1',
        'sev2',
        'severity',
        'incident commander',
        'incident declared',
        'declared an incident',
      ]),
      mitigation: phrases([
        'rollback',
        'rolled back',
        'roll back',
        'mitigat*',
        'failover',
        'failed over',
        'revert*',
        'disabled',
        'restarted',
        'scaled',
      ]),
      resolution: phrases([
        'resolved',
        'resolution',
        'recovered',
        'back to baseline',
        'back to normal',
        'all clear',
        'all-clear',
        'fully restored',
      ]),
    })
    .strict(),
  check(context, options) {
    const timeline = context.doc.timeline;
    if (!timeline) return [];
    const texts = timeline.entries.map((entry) => entry.text);
    const milestones = ['detection', 'escalation', 'mitigation', 'resolution'] as const;
    const missing = milestones.filter((milestone) => !texts.some((text) => findPhrase(text, options[milestone])));
    if (missing.length === 0) return [];
    return [{ message: `the timeline has no ${missing.join(', ')} entry`, at: context.at('/sections/timeline') }];
  },
});

import { defineRule } from '../rule.js';
import { none } from './options.js';
import { declaredZone } from './timeline-zone.js';

export const timelineNoTimezone = defineRule({
  id: 'timeline-no-timezone',
  severity: 'warning',
  summary: 'The timeline gives times but no time zone: no "All times ..." line, no `timezone` in the front matter, no zone on any entry.',
  why: 'A reader in another zone, or the next incident review, cannot line the times up with graphs, logs and customer reports.',
  hint: 'Start the timeline with "All times UTC." (or set `timezone` in the front matter).',
  options: none,
  check(context) {
    const entries = context.doc.timeline?.entries ?? [];
    if (declaredZone(context.doc) !== undefined || entries.some((e) => e.zone) || !entries.some((e) => e.time !== null)) return [];
    return [{ message: 'the timeline does not say which time zone its times are in', at: context.at('/sections/timeline') }];
  },
});

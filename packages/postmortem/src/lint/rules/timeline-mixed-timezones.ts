import { defineRule, type Report } from '../rule.js';
import { normaliseZone } from '../time.js';
import { none } from './options.js';
import { declaredZone } from './timeline-zone.js';

export const timelineMixedTimezones = defineRule({
  id: 'timeline-mixed-timezones',
  severity: 'error',
  summary: 'Timeline entries use different time zones, or a zone other than the one the timeline declares.',
  why: 'Mixed zones make durations and gaps wrong by hours and hide the real order of events.',
  hint: 'Declare one zone at the top of the timeline ("All times UTC.") and convert every entry to it.',
  options: none,
  check(context) {
    const entries = context.doc.timeline?.entries ?? [];
    let reference = declaredZone(context.doc);
    const reports: Report[] = [];
    entries.forEach((entry, i) => {
      if (!entry.zone) return;
      const zone = normaliseZone(entry.zone);
      if (reference === undefined) reference = zone;
      else if (zone !== reference) {
        reports.push({
          message: `entry at ${entry.time} is in ${entry.zone}, the timeline is in ${reference}`,
          at: context.at(`/timeline/entries/${i}`),
        });
      }
    });
    return reports;
  },
});

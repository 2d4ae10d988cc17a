import { defineRule } from '../rule.js';
import { none } from './options.js';

/** Reported by the lint engine, which alone sees both the suppressions and the findings they silence. */
export const suppressionUnused = defineRule({
  id: 'suppression-unused',
  severity: 'warning',
  summary: 'An inline suppression silences nothing: the finding it was written for is gone or on another line.',
  why: 'A stale suppression would silently hide the next, different problem on that line.',
  hint: 'Remove the comment, or move it to the line directly above the finding.',
  options: none,
  check: () => [],
});

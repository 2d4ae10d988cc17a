import { z } from 'zod';
import { ACTION_COLUMNS } from '../../parse/actions.js';
import type { Diagnostic, DiagnosticCode } from '../../parse/diagnostics.js';
import { defineRule, type Report, type Rule } from '../rule.js';
import { none } from './options.js';

const report = (d: Diagnostic): Report => ({ message: d.message, at: { line: d.line, column: d.column } });

/** The parser's own findings, exposed as rules so they share severity, configuration and output. */
function fromParser(id: DiagnosticCode, summary: string, why: string, hint: string): Rule {
  return defineRule({
    id,
    severity: 'error',
    summary,
    why,
    hint,
    options: none,
    check: (context) => context.diagnostics.filter((d) => d.code === id).map(report),
  });
}

export const frontMatterMissing = fromParser(
  'front-matter-missing',
  'The document does not start with YAML front matter.',
  'The front matter carries the times, status, owners and reviewers every rule and report reads.',
  'Start the file with a --- line, the fields (title, status, severity, ...), and a closing --- line.',
);
export const frontMatterInvalid = fromParser(
  'front-matter-invalid',
  'The front matter is not valid YAML, is never closed, lacks title or status, or a field has the wrong type.',
  'A field that cannot be read is left out of the model, so the rules that need it stay silent.',
  'Fix the field named in the message; times need an offset (2026-11-03T09:12:00Z).',
);
export const timelineEntryMalformed = defineRule({
  id: 'timeline-entry-malformed',
  severity: 'error',
  summary: 'A timeline entry does not start with a time, or lacks the " - " between its time and what happened (HH:MM - what happened).',
  why: 'Entries without times cannot be ordered, and gaps and durations cannot be computed.',
  hint: 'Write each entry as `- HH:MM - what happened`, optionally with a date and a zone before the dash.',
  // `optional` accepts `HH:MM what happened`, the Google SRE book's timeline style.
  options: z.object({ separator: z.enum(['required', 'optional']).default('required') }).strict(),
  check: (context, options) =>
    context.diagnostics
      .filter((d) => d.code === 'timeline-entry-malformed' && !(options.separator === 'optional' && d.lacksSeparator))
      .map(report),
});

const HEADERS = ACTION_COLUMNS.map((c) => c.header) as [string, ...string[]];

export const actionTableMalformed = defineRule({
  id: 'action-table-malformed',
  severity: 'error',
  summary: 'The Action items section has no table, the table lacks a required column, or a row has the wrong number of cells.',
  why: 'Action tracking reads the owner, deadline, priority and status from the table; a missing cell is a missing commitment.',
  hint: 'Use the columns # | Description | Owner | Deadline | Priority | Lessons | Status | Link, one row per action.',
  // A template with fewer columns (Google's Action Item | Type | Owner | Bug) requires only those.
  options: z.object({ columns: z.array(z.enum(HEADERS)).default([...HEADERS]) }).strict(),
  check(context, options) {
    const reports: Report[] = [];
    for (const d of context.diagnostics) {
      if (d.code !== 'action-table-malformed') continue;
      if (d.missingColumns === undefined) reports.push(report(d));
      else {
        const missing = d.missingColumns.filter((column) => options.columns.includes(column));
        if (missing.length > 0)
          reports.push({
            message: `the action table lacks the column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`,
            at: { line: d.line, column: d.column },
          });
      }
    }
    return reports;
  },
});

export const suppressionInvalid = fromParser(
  'suppression-invalid',
  'An inline suppression gives no reason, names an unknown rule, or is not followed by a line.',
  'A suppression is a decision someone will have to revisit; without a reason nobody can tell whether it still holds.',
  'Write `<!-- postmortem-disable-next-line rule-id: why this is fine here -->` on the line above the finding.',
);

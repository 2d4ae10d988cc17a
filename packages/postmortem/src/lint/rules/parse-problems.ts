import type { DiagnosticCode } from '../../parse/diagnostics.js';
import { defineRule, type Rule } from '../rule.js';
import { none } from './options.js';

/** The parser's own findings, exposed as rules so they share severity, configuration and output. */
function fromParser(id: DiagnosticCode, summary: string, why: string, hint: string): Rule {
  return defineRule({
    id,
    severity: 'error',
    summary,
    why,
    hint,
    options: none,
    check: (context) =>
      context.diagnostics.filter((d) => d.code === id).map((d) => ({ message: d.message, at: { line: d.line, column: d.column } })),
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
export const timelineEntryMalformed = fromParser(
  'timeline-entry-malformed',
  'A timeline entry does not start with a time (HH:MM - what happened).',
  'Entries without times cannot be ordered, and gaps and durations cannot be computed.',
  'Write each entry as `- HH:MM - what happened`, optionally with a date and a zone before the dash.',
);
export const actionTableMalformed = fromParser(
  'action-table-malformed',
  'The Action items section has no table, the table lacks a column, or a row has the wrong number of cells.',
  'Action tracking reads the owner, deadline, priority and status from the table; a missing cell is a missing commitment.',
  'Use the columns # | Description | Owner | Deadline | Priority | Lessons | Status | Link, one row per action.',
);

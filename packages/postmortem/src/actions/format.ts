import { expectList, expectRecord } from '../input.js';
import type { ActionSummary, Counts } from './track.js';

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => r[c]?.length ?? 0))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, c) => cell.padEnd(widths[c] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

const countRows = (group: Record<string, Counts>) =>
  Object.entries(group)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, c]) => [key, String(c.total), String(c.open), String(c.overdue), String(c.done)]);

const percent = (rate: number | null) => (rate === null ? 'n/a' : `${Math.round(rate * 100)}%`);
const days = (value: number | null) => (value === null ? 'n/a' : `${Math.round(value)} days`);

/** The summary as a person reads it: totals, then by owner and by priority, then the overdue actions. */
export function formatActions(summary: ActionSummary): string {
  expectRecord(summary, 'formatActions', 'the summary');
  expectList(summary.actions, 'formatActions', 'summary.actions');
  const header = ['', 'total', 'open', 'overdue', 'done'];
  const overdue = summary.actions
    .filter((a) => a.overdue)
    .sort((a, b) => b.daysOverdue - a.daysOverdue)
    .map((a) => [`${a.file}:${a.line}`, `#${a.id}`, a.owner || '(no owner)', a.deadline, `${a.daysOverdue}d`, a.description]);
  return [
    `Action items as of ${summary.today}: ${summary.total} total, ${summary.open} open, ${summary.overdue} overdue, ${summary.done} done`,
    `Completion rate ${percent(summary.completionRate)}; open actions are ${days(summary.openAge.mean)} old on average, the oldest ${days(summary.openAge.max)}.`,
    '',
    'By owner',
    table([['owner', ...header.slice(1)], ...countRows(summary.byOwner)]),
    '',
    'By priority',
    table([['priority', ...header.slice(1)], ...countRows(summary.byPriority)]),
    '',
    overdue.length === 0
      ? 'No overdue actions.'
      : `Overdue\n${table([['where', 'action', 'owner', 'deadline', 'late', 'description'], ...overdue])}`,
  ].join('\n');
}

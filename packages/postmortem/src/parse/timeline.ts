import type { List, RootContent } from 'mdast';
import type { Position } from '../model/positions.js';
import type { PostMortem, TimelineEntry } from '../model/schema.js';
import type { Diagnostic } from './diagnostics.js';
import { around, type Block } from './sections.js';
import { type Source, start } from './source.js';

const ENTRY = /^(?:(\d{4}-\d{2}-\d{2})[ T])?(\d{1,2}:\d{2}(?::\d{2})?)(?:\s*(Z|[A-Z]{2,5}|[+-]\d{2}:?\d{2}))?\s+[-–—]\s+([\s\S]+)$/;
const BOLD = /^\*\*([\s\S]+)\*\*$/;

/** Reads one timeline line: `[date ]HH:MM[ zone] - text`, where a bold text (or a bold line) marks a milestone. */
export function parseEntry(raw: string): TimelineEntry | undefined {
  const line = raw.trim();
  const boldLine = BOLD.exec(line);
  const match = ENTRY.exec(boldLine ? (boldLine[1] ?? '') : line);
  if (!match) return undefined;
  const [, date, time, zone, rest = ''] = match;
  const boldText = BOLD.exec(rest.trim());
  const entry: TimelineEntry = {
    time: time ?? null,
    text: (boldText ? (boldText[1] ?? '') : rest).trim(),
    milestone: boldLine !== null || boldText !== null,
  };
  if (date) entry.date = date;
  if (zone) entry.zone = zone;
  return entry;
}

const TIME_FIRST = /^\**\s*(?:\d{4}-\d{2}-\d{2}[ T])?\d{1,2}:\d{2}(?::\d{2})?(?:\s*(?:Z|[A-Z]{2,5}|[+-]\d{2}:?\d{2})(?![\w:]))?/;

/** Says what is wrong with an entry: no time at all, or a time without the ` - ` that separates it from the text. */
function malformedEntryMessage(text: string): string {
  const quoted = `"${text.length > 40 ? `${text.slice(0, 40)}…` : text}"`;
  const time = TIME_FIRST.exec(text);
  if (time === null) return `timeline entry ${quoted} does not start with a time (HH:MM - what happened)`;
  const rest = text.slice(time[0].length).replace(/^[\s:,]+/, '');
  return `timeline entry ${quoted} lacks the " - " between its time and what happened (write "${time[0].replace(/^\**\s*/, '')} - ${rest.slice(0, 30)}")`;
}

export const isList = (node: RootContent): node is List => node.type === 'list';

export function parseTimeline(
  source: Source,
  block: Block,
  positions: Map<string, Position>,
  diagnostics: Diagnostic[],
): NonNullable<PostMortem['timeline']> {
  const { node: list, intro, outro } = around(source, block, isList);
  const entries: TimelineEntry[] = [];
  list?.children.forEach((item, i) => {
    const content = source.content(item);
    const text = content?.text ?? '';
    const at = source.position(start(item));
    positions.set(`/timeline/entries/${i}`, at);
    const entry = parseEntry(text);
    if (entry) entries.push(entry);
    else {
      // `14:51 News reports ...` (the Google SRE book's style) still has a time: keep it, and say only the separator is missing.
      const time = TIME_FIRST.exec(text)?.[0];
      const rest = time === undefined ? '' : text.slice(time.length).replace(/^[\s:,]+/, '');
      const loose = time === undefined || rest === '' ? undefined : parseEntry(`${time} - ${rest}`);
      const lacksSeparator = loose !== undefined;
      diagnostics.push({
        code: 'timeline-entry-malformed',
        message: malformedEntryMessage(text),
        ...at,
        ...(lacksSeparator ? { lacksSeparator } : {}),
      });
      entries.push(lacksSeparator ? loose : { time: null, text, milestone: false });
    }
  });
  return { intro, entries, outro };
}

import { expectAnalysis } from '../input.js';
import type { PatternAnalysis } from './analyse.js';

const cell = (text: string) => text.replace(/\|/g, '\\|');

/** The analysis as Markdown: counts per square and month, the squares that repeat and what that suggests, and the evidence. */
export interface ReportOptions {
  /** A square in at least this many post-mortems is called out as repeated (default 2). */
  readonly repeatAt?: number;
  /** Where the chart is, relative to the report, to embed it. */
  readonly chart?: string;
  /** How to link a document from the report (default: its path as given). */
  readonly link?: (file: string) => string;
}

export function patternReport(analysis: PatternAnalysis, options: ReportOptions = {}): string {
  expectAnalysis(analysis, 'patternReport');
  const link = options.link ?? ((file: string) => file);
  const repeatAt = options.repeatAt ?? 2;
  const header = ['Pattern', ...analysis.periods, 'Total'];
  const rows = analysis.squares.map((s) => [s.square.label, ...analysis.periods.map((p) => String(s.byPeriod[p] ?? 0)), String(s.total)]);
  const repeated = analysis.squares.filter((s) => s.total >= repeatAt).sort((a, b) => b.total - a.total);
  const lines = [
    '# Post-mortem patterns',
    '',
    `${analysis.documents} post-mortems, ${analysis.periods.length === 0 ? 'no periods' : `${analysis.periods[0]} to ${analysis.periods.at(-1)}`}. A pattern counts once per post-mortem, found from its tags or its narrative.`,
    '',
    `| ${header.map(cell).join(' | ')} |`,
    `|${header.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`,
    ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
    '',
  ];
  if (options.chart) lines.push(`![Patterns per month](${options.chart})`, '');
  lines.push('## Repeated patterns', '');
  if (repeated.length === 0) lines.push(`No pattern appears in ${repeatAt} or more post-mortems.`);
  for (const s of repeated) lines.push(`- **${s.square.label}** in ${s.total} post-mortems: ${s.square.meaning}.`);
  lines.push('', '## Evidence', '');
  for (const s of analysis.squares.filter((x) => x.total > 0)) {
    lines.push(`### ${s.square.label}`, '');
    for (const hit of s.hits)
      lines.push(`- ${hit.period} [${hit.title}](${encodeURI(link(hit.file).replace(/\\/g, '/'))}): ${hit.evidence}`);
    lines.push('');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

import { expectList, fileFindingsProblem } from '../input.js';
import type { Finding } from '../lint/rule.js';

export interface FileFindings {
  readonly file: string;
  readonly findings: readonly Finding[];
}

export const FORMATS = ['text', 'json', 'sarif'] as const;
export type Format = (typeof FORMATS)[number];

/** `file:line:column  severity  rule  message`, the hint under it, and a count at the end. */
export function formatText(results: readonly FileFindings[]): string {
  expectList(results, 'formatText', 'the results', fileFindingsProblem);
  const lines: string[] = [];
  const count = { error: 0, warning: 0, note: 0 };
  for (const { file, findings } of results) {
    for (const f of findings) {
      count[f.severity]++;
      lines.push(`${file}:${f.line}:${f.column}  ${f.severity.padEnd(7)}  ${f.rule}  ${f.message}`, `    hint: ${f.hint}`);
    }
  }
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  lines.push(
    `${plural(count.error, 'error')}, ${plural(count.warning, 'warning')}, ${plural(count.note, 'note')} in ${plural(results.length, 'file')}`,
  );
  return lines.join('\n');
}

/** `[{"file","rule","severity","line","message"}]`, one object per finding. */
export function formatJson(results: readonly FileFindings[]): string {
  expectList(results, 'formatJson', 'the results', fileFindingsProblem);
  return JSON.stringify(
    results.flatMap(({ file, findings }) =>
      findings.map((f) => ({ file, rule: f.rule, severity: f.severity, line: f.line, message: f.message })),
    ),
  );
}

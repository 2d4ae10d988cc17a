import type { Diagnostic } from './diagnostics.js';

/** `<!-- postmortem-disable-next-line rule-a, rule-b: why -->`: silences those rules on the line after the comment. */
export interface Suppression {
  /** Line of the comment. */
  readonly line: number;
  readonly column: number;
  /** The line whose findings it silences. */
  readonly target: number;
  readonly rules: readonly string[];
  readonly reason: string;
}

const COMMENT = /<!--\s*postmortem-disable-next-line\b([\s\S]*?)-->/g;
const RULE_ID = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;

/**
 * Reads every suppression comment of the (normalised) document. A comment without a rule id or
 * without a reason, or with nothing after it, is a diagnostic and silences nothing: the reason is
 * what lets a later reader decide whether the exception still holds.
 */
export function readSuppressions(text: string): { suppressions: Suppression[]; diagnostics: Diagnostic[] } {
  const suppressions: Suppression[] = [];
  const diagnostics: Diagnostic[] = [];
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') lineStarts.push(i + 1);
  const lineOf = (offset: number) => {
    let low = 0;
    let high = lineStarts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (lineStarts[mid]! <= offset) low = mid;
      else high = mid - 1;
    }
    return low + 1;
  };
  for (const match of text.matchAll(COMMENT)) {
    const line = lineOf(match.index);
    const column = match.index - lineStarts[line - 1]! + 1;
    const endLine = lineOf(match.index + match[0].length - 1);
    const body = (match[1] ?? '').trim();
    const colon = body.indexOf(':');
    const ids = (colon < 0 ? body : body.slice(0, colon)).split(/[\s,]+/).filter((id) => id !== '');
    const reason = colon < 0 ? '' : body.slice(colon + 1).trim();
    const problem =
      ids.length === 0
        ? 'names no rule (write postmortem-disable-next-line rule-id: reason)'
        : ids.some((id) => !RULE_ID.test(id))
          ? `names "${ids.find((id) => !RULE_ID.test(id))}", which is not a rule id`
          : reason === ''
            ? `gives no reason for silencing ${ids.join(', ')} (write "${ids.join(', ')}: why this is fine here")`
            : endLine >= lineStarts.length
              ? 'is on the last line, so there is no next line to silence'
              : undefined;
    if (problem) diagnostics.push({ code: 'suppression-invalid', message: `the suppression ${problem}`, line, column });
    else suppressions.push({ line, column, target: endLine + 1, rules: ids, reason });
  }
  return { suppressions, diagnostics };
}

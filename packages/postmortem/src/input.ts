/**
 * Every public function checks what it is handed before touching it, so a caller's mistake reads
 * "lint: the input must be ..., got undefined" rather than a TypeError from deep inside a rule.
 * It extends TypeError: it is one, and callers that caught TypeError keep working.
 */
export class PostmortemInputError extends TypeError {
  override readonly name = 'PostmortemInputError';
}

/** `undefined`, `null`, `an array`, `a number (42)`: what a value is, for an error message. */
export function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `a string (${JSON.stringify(value.slice(0, 40))})`;
  return `${typeof value === 'number' ? 'a number' : `a ${typeof value}`} (${String(value)})`;
}

export function expectString(value: unknown, where: string, what: string): asserts value is string {
  if (typeof value !== 'string') throw new PostmortemInputError(`${where}: ${what} must be a string, got ${describe(value)}`);
}

export function expectRecord(value: unknown, where: string, what: string): asserts value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new PostmortemInputError(`${where}: ${what} must be an object, got ${describe(value)}`);
}

/** A list whose items each pass `item` (which returns what is wrong with one, or undefined). */
export function expectList(
  value: unknown,
  where: string,
  what: string,
  item?: (entry: unknown) => string | undefined,
): asserts value is unknown[] {
  if (!Array.isArray(value)) throw new PostmortemInputError(`${where}: ${what} must be an array, got ${describe(value)}`);
  if (!item) return;
  value.forEach((entry, i) => {
    const problem = item(entry);
    if (problem !== undefined) throw new PostmortemInputError(`${where}: ${what}[${i}] ${problem}`);
  });
}

/** For lists of `{ file, findings }`, the shape every output format takes. */
export const fileFindingsProblem = (entry: unknown): string | undefined =>
  entry !== null &&
  typeof entry === 'object' &&
  typeof (entry as { file?: unknown }).file === 'string' &&
  Array.isArray((entry as { findings?: unknown }).findings)
    ? undefined
    : `must be { file: string, findings: Finding[] }, got ${describe(entry)}`;

/** For lists of `{ file, doc }` (a parsed document and where it came from), what tracking and patterns take. */
export const parsedProblem = (entry: unknown): string | undefined =>
  entry !== null &&
  typeof entry === 'object' &&
  typeof (entry as { doc?: unknown }).doc === 'object' &&
  (entry as { doc?: unknown }).doc !== null
    ? undefined
    : `must be { file, doc, positions } (a loaded document), got ${describe(entry)}`;

/** The result of analysePatterns, which the report and the chart draw. */
export function expectAnalysis(value: unknown, where: string): void {
  expectRecord(value, where, 'the analysis');
  if (!Array.isArray(value.periods) || !Array.isArray(value.squares))
    throw new PostmortemInputError(`${where}: the analysis must be the result of analysePatterns() (with periods and squares)`);
}

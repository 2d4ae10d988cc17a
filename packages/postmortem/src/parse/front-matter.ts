import { isMap, isScalar, parseDocument } from 'yaml';
import { LineIndex, type Position } from '../model/positions.js';
import { type FrontMatter, FrontMatterSchema, REQUIRED_FRONT_MATTER } from '../model/schema.js';
import type { Diagnostic } from './diagnostics.js';

export interface FrontMatterResult {
  readonly frontMatter: FrontMatter;
  readonly extra: Record<string, unknown>;
  readonly positions: Map<string, Position>;
  readonly diagnostics: Diagnostic[];
  /** Lines the front matter (with its fences) occupies; the body starts after them. */
  readonly lineCount: number;
  /** Offset in the document where the body starts. */
  readonly bodyOffset: number;
}

const FENCE = /^---[ \t]*$/;
const CLOSE = /^(?:---|\.\.\.)[ \t]*$/;

/** Splits off and validates the YAML front matter; a field that fails validation is reported and left out. */
export function parseFrontMatter(text: string): FrontMatterResult {
  const lines = text.split('\n');
  const empty = (diagnostic: Omit<Diagnostic, 'line' | 'column'>): FrontMatterResult => ({
    frontMatter: {},
    extra: {},
    positions: new Map(),
    diagnostics: [{ ...diagnostic, line: 1, column: 1 }],
    lineCount: 0,
    bodyOffset: 0,
  });
  if (!FENCE.test(lines[0] ?? '')) {
    return empty({ code: 'front-matter-missing', message: 'the document has no YAML front matter (a first line of ---)' });
  }
  const closing = lines.findIndex((line, i) => i > 0 && CLOSE.test(line));
  if (closing < 0) return empty({ code: 'front-matter-invalid', message: 'the front matter opened on line 1 is never closed with ---' });

  const yamlText = lines.slice(1, closing).join('\n');
  const index = new LineIndex(yamlText);
  const at = (offset: number): Position => {
    const p = index.at(offset);
    return { line: p.line + 1, column: p.column };
  };
  const result: FrontMatterResult = {
    frontMatter: {},
    extra: {},
    positions: new Map([['/frontMatter', { line: 1, column: 1 }]]),
    diagnostics: [],
    lineCount: closing + 1,
    bodyOffset: lines.slice(0, closing + 1).join('\n').length + 1,
  };
  const document = parseDocument(yamlText, { uniqueKeys: true, prettyErrors: false });
  for (const error of document.errors) {
    result.diagnostics.push({ code: 'front-matter-invalid', message: `YAML: ${firstLine(error.message)}`, ...at(error.pos[0]) });
  }
  const contents = document.contents;
  if (result.diagnostics.length === 0 && contents !== null && !isMap(contents)) {
    result.diagnostics.push({
      code: 'front-matter-invalid',
      message: 'the front matter must be a YAML mapping of field: value',
      line: 2,
      column: 1,
    });
  }
  const js = toPlain(document);
  if (!js.ok)
    result.diagnostics.push({
      code: 'front-matter-invalid',
      message: 'the front matter cannot be read as data (too many aliases?)',
      line: 2,
      column: 1,
    });
  if (isMap(contents) && js.ok) {
    const values = js.value as Record<string, unknown>;
    const fields = FrontMatterSchema.shape as Record<string, (typeof FrontMatterSchema.shape)[keyof FrontMatter]>;
    const target = result.frontMatter as Record<string, unknown>;
    for (const pair of contents.items) {
      if (!isScalar(pair.key)) continue;
      const key = String(pair.key.value);
      const position = at(pair.key.range?.[0] ?? 0);
      result.positions.set(`/frontMatter/${key}`, position);
      const value = values[key] ?? null;
      const schema = fields[key];
      if (!schema) {
        result.extra[key] = value;
        continue;
      }
      const checked = schema.safeParse(value);
      if (checked.success) target[key] = checked.data;
      else {
        const issue = checked.error.issues[0];
        const where = issue && issue.path.length > 0 ? `${key}.${issue.path.join('.')}` : key;
        result.diagnostics.push({
          code: 'front-matter-invalid',
          message: `field "${where}": ${issue?.message ?? 'invalid value'}`,
          ...position,
        });
      }
    }
  }
  for (const key of REQUIRED_FRONT_MATTER) {
    if (result.frontMatter[key] === undefined && !result.positions.has(`/frontMatter/${key}`)) {
      result.diagnostics.push({ code: 'front-matter-invalid', message: `field "${key}" is required`, line: 1, column: 1 });
    }
  }
  return result;
}

function toPlain(document: ReturnType<typeof parseDocument>): { ok: true; value: unknown } | { ok: false } {
  try {
    // Round-tripping through JSON keeps only what the model can hold (no Dates, no undefined).
    return { ok: true, value: JSON.parse(JSON.stringify(document.toJS({ maxAliasCount: 100 }) ?? null)) };
  } catch {
    return { ok: false };
  }
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}

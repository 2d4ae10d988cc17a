import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument, visit } from 'yaml';
import type { DefinitionError } from './errors.js';
import type { TemplateFunction } from './gotemplate/functions.js';
import { hasActions } from './gotemplate/parse.js';
import { type Rendered, renderGoTemplate, restoreDeferred, TemplateRenderError } from './gotemplate/render.js';

/** A key or index on the way from the document root to a node. */
export type PathSegment = string | number;
export type Path = readonly PathSegment[];

export interface Position {
  readonly line: number;
  readonly column: number;
}

/** A parsed YAML or JSON document that can say where any path points. */
export interface SourceDocument {
  readonly value: unknown;
  /** The node at `path` (its key when `at` is 'key'), or the deepest existing ancestor. */
  locate(path: Path, at?: 'value' | 'key'): Position;
}

/** How a definition that holds Go template actions is rendered before it is parsed. */
export interface TemplateOptions {
  /** The template's data: request params and built-ins; absent when only validating. */
  readonly params?: Readonly<Record<string, unknown>>;
  /** What a multi-line `{{if}}` on a missing value counts as (false, as in Go; true checks the other branch). */
  readonly missingIs?: boolean;
  readonly functions?: Readonly<Record<string, TemplateFunction>>;
}

export interface SourceRead {
  readonly document?: SourceDocument;
  readonly errors: readonly DefinitionError[];
  /** What rendering decided about missing values, positioned in the original file. */
  readonly notes: readonly DefinitionError[];
  /** True when the text was rendered as a template first. */
  readonly rendered: boolean;
}

/** Definitions are small; a bound keeps a hostile request from costing much. */
export const MAX_SOURCE_BYTES = 1024 * 1024;

export function formatPath(path: Path): string {
  let text = '';
  for (const segment of path) {
    text += typeof segment === 'number' ? `[${segment}]` : text === '' ? segment : `.${segment}`;
  }
  return text;
}

/**
 * YAML 1.2 is a superset of JSON, so one parser keeps positions for both. Merge keys (`<<: *defaults`)
 * are on because shared task settings are the usual reason for anchors in definitions.
 */
export function readSource(source: string, file: string, template: TemplateOptions = {}): SourceRead {
  const sourceLines = lineStarts(source);
  const inSource = (offset: number): Position => positionIn(sourceLines, offset);
  const fail = (errors: readonly DefinitionError[], notes: readonly DefinitionError[] = []): SourceRead => ({
    errors,
    notes,
    rendered: false,
  });
  if (Buffer.byteLength(source, 'utf8') > MAX_SOURCE_BYTES) {
    return fail([{ file, line: 1, column: 1, path: '', message: `definition too large: more than ${MAX_SOURCE_BYTES} bytes` }]);
  }
  let rendered: Rendered | undefined;
  const notes: DefinitionError[] = [];
  if (hasActions(source)) {
    try {
      rendered = renderGoTemplate(source, {
        data: template.params ?? {},
        missingIs: template.missingIs ?? false,
        ...(template.functions === undefined ? {} : { functions: template.functions }),
      });
    } catch (error) {
      if (!(error instanceof TemplateRenderError)) throw error;
      const positioned = { file, ...inSource(error.offset), path: '', message: error.message };
      // Braces that are no template at all (`echo '{{'` in a script) are text when the file reads as YAML without rendering.
      if (error.kind !== 'syntax' || parseDocument(source, { logLevel: 'silent' }).errors.length > 0) return fail([positioned]);
      notes.push({ ...positioned, message: `${error.message}; the file is read as written, without rendering` });
    }
  }
  notes.push(
    ...(rendered?.notes ?? []).map((note) => ({ file, ...inSource(note.offset), path: '', message: `template: ${note.message}` })),
  );
  const text = rendered?.text ?? source;
  const restore = (value: string): string => (rendered === undefined ? value : restoreDeferred(value, rendered.deferred));
  const lineCounter = new LineCounter();
  const at = (offset: number): Position => {
    if (rendered !== undefined) return inSource(rendered.sourceOffset(offset));
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  // logLevel 'error': the library's warnings (unresolved tags and the like) would go to stderr; the parse errors below are what users see.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, strict: true, merge: true, logLevel: 'error' });
  if (doc.errors.length > 0) {
    const multiple = doc.errors.find((error) => error.code === 'MULTIPLE_DOCS');
    if (multiple !== undefined) {
      return fail(
        [
          {
            file,
            ...at(multiple.pos[0]),
            path: '',
            message:
              "this file holds more than one YAML document (a second one starts here after '---'): a definition is one document; put each job in its own file",
          },
        ],
        notes,
      );
    }
    const errors = doc.errors.map((error) => ({
      file,
      ...at(error.pos[0]),
      path: '',
      message: restore(
        error.code === 'DUPLICATE_KEY'
          ? `duplicate key '${keyAt(text, error.pos[0])}'`
          : `YAML syntax${rendered === undefined ? '' : ' (after rendering the template)'}: ${error.message}`,
      ),
    }));
    return fail(errors, notes);
  }
  if (doc.contents === null) {
    return fail([{ file, line: 1, column: 1, path: '', message: 'empty definition: expected a mapping with job_type and tasks' }], notes);
  }
  const root = doc.contents as Node;
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 1000 });
    if (rendered !== undefined) value = restoreIn(value, restore);
  } catch (error) {
    // Converting can still fail after a clean parse (a `<<` merge of a scalar, too many aliases);
    // it must become a positioned error, never an exception the caller did not ask for.
    const merge = badMergeKey(doc);
    const message = error instanceof Error ? error.message : String(error);
    return fail(
      [
        {
          file,
          ...at(merge ?? rangeStart(root)),
          path: '',
          message:
            merge === undefined
              ? `YAML: ${message}`
              : `YAML: '<<' merges a mapping into this one; quote it ("<<") to use it as a plain key`,
        },
      ],
      notes,
    );
  }
  return {
    notes,
    rendered: rendered !== undefined,
    document: {
      value,
      locate(path, where = 'value') {
        let node: unknown = root;
        let keyNode: unknown;
        for (const segment of path) {
          const step = child(node, segment);
          if (step === undefined) return at(rangeStart(node));
          node = step.value;
          keyNode = step.key;
        }
        return at(rangeStart(where === 'key' && keyNode !== undefined ? keyNode : node));
      },
    },
    errors: [],
  };
}

/** Deferred template actions back in every string, keys included. */
function restoreIn(value: unknown, restore: (text: string) => string): unknown {
  if (typeof value === 'string') return restore(value);
  if (Array.isArray(value)) return value.map((item) => restoreIn(item, restore));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [restore(key), restoreIn(item, restore)]));
  }
  return value;
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) starts.push(at + 1);
  return starts;
}

function positionIn(starts: readonly number[], offset: number): Position {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (starts[middle]! <= offset) low = middle;
    else high = middle - 1;
  }
  return { line: low + 1, column: offset - starts[low]! + 1 };
}

function child(node: unknown, segment: PathSegment): { readonly key?: unknown; readonly value: unknown } | undefined {
  if (isSeq(node) && typeof segment === 'number') {
    const item = node.items[segment];
    return item === undefined ? undefined : { value: item };
  }
  if (isMap(node)) {
    const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment));
    // A key with no value (`retry:`) has a null value node; point at its key then.
    return pair === undefined ? undefined : { key: pair.key, value: pair.value ?? pair.key };
  }
  return undefined;
}

function rangeStart(node: unknown): number {
  const range = (node as { range?: readonly number[] } | null)?.range;
  return range?.[0] ?? 0;
}

/** The key written at `offset` (plain or quoted), for messages about it. */
function keyAt(text: string, offset: number): string {
  const match = /^(?:"((?:[^"\\]|\\.)*)"|'((?:[^']|'')*)'|([^:,{}[\]\s]+))/.exec(text.slice(offset));
  return match?.[1] ?? match?.[2] ?? match?.[3] ?? '';
}

/** Offset of the first unquoted `<<` key whose value is neither a mapping nor an alias. */
function badMergeKey(doc: ReturnType<typeof parseDocument>): number | undefined {
  let offset: number | undefined;
  visit(doc, {
    Pair(_, pair) {
      const key = pair.key;
      if (isScalar(key) && typeof key.value === 'symbol' && !isMap(pair.value) && !isAlias(pair.value)) {
        offset = key.range?.[0];
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return offset;
}

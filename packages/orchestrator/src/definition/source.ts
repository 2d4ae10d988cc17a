import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument, visit } from 'yaml';
import type { DefinitionError } from './errors.js';

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
export function readSource(
  text: string,
  file: string,
): { readonly document?: SourceDocument; readonly errors: readonly DefinitionError[] } {
  const lineCounter = new LineCounter();
  const at = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  if (Buffer.byteLength(text, 'utf8') > MAX_SOURCE_BYTES) {
    return { errors: [{ file, line: 1, column: 1, path: '', message: `definition too large: more than ${MAX_SOURCE_BYTES} bytes` }] };
  }
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, strict: true, merge: true });
  if (doc.errors.length > 0) {
    const errors = doc.errors.map((error) => ({
      file,
      ...at(error.pos[0]),
      path: '',
      message: error.code === 'DUPLICATE_KEY' ? `duplicate key '${keyAt(text, error.pos[0])}'` : `YAML syntax: ${error.message}`,
    }));
    return { errors };
  }
  if (doc.contents === null) {
    return { errors: [{ file, line: 1, column: 1, path: '', message: 'empty definition: expected a mapping with job_type and tasks' }] };
  }
  const root = doc.contents as Node;
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 1000 });
  } catch (error) {
    // Converting can still fail after a clean parse (a `<<` merge of a scalar, too many aliases);
    // it must become a positioned error, never an exception the caller did not ask for.
    const merge = badMergeKey(doc);
    const message = error instanceof Error ? error.message : String(error);
    return {
      errors: [
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
    };
  }
  return {
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

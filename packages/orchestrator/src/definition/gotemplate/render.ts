import {
  isKnownFunction,
  lookupFunction,
  printValue,
  type TemplateFunction,
  TemplateFunctionError,
  truthy,
  Unavailable,
} from './functions.js';
import { type Arg, type Command, type Node, type Pipeline, parseTemplate, TemplateSyntaxError } from './parse.js';

/**
 * Renders a parsed template the way Formicary renders a definition, with one deliberate change for
 * values nobody has given yet (see docs/orchestrator-definitions.md, "Templates"):
 * - an output action (`{{ .X }}`, `{{ f .X }}`) that needs a missing value is *deferred*: it stays in
 *   the text as written, so the task renders it when it runs (job variables, task outputs and
 *   built-ins such as JobID exist only then) and fails there with the variable's name if it is
 *   still missing. Formicary prints `<no value>` instead and runs on with a wrong value.
 * - a condition (`if`, `with`) on a missing value is taken as `missingIs` (false, Go's nil, unless the
 *   caller checks the other branch) and a note says so, with the position.
 * - `range` over a missing value runs zero times, with a note.
 */

export interface RenderOptions {
  /** The template's data (`.`): request params and built-ins. Only own keys are visible. */
  readonly data: Readonly<Record<string, unknown>>;
  /** Functions beyond the built-in table (e.g. CountByJobTypeAndState backed by a store). */
  readonly functions?: Readonly<Record<string, TemplateFunction>>;
  /** What a condition on a missing value counts as (false is Go's behaviour for nil). */
  readonly missingIs?: boolean;
  /** Output beyond this many characters is refused (a range over a huge list). */
  readonly maxLength?: number;
}

export interface RenderNote {
  readonly offset: number;
  readonly message: string;
}

export interface Rendered {
  readonly text: string;
  /** Deferred actions, as written; the text holds `deferredMarker(i)` in their place. */
  readonly deferred: readonly string[];
  readonly notes: readonly RenderNote[];
  /** Maps an offset in `text` to the offset in the template source it came from. */
  sourceOffset(offset: number): number;
}

export class TemplateRenderError extends Error {
  override readonly name = 'TemplateRenderError';
  constructor(
    message: string,
    readonly offset: number,
    /** `syntax`: the text is not a template at all (a stray `{{`); `render`: a valid template failed. */
    readonly kind: 'syntax' | 'render' = 'render',
  ) {
    super(message);
  }
}

const MARK_OPEN = '\uE000';
const MARK_CLOSE = '\uE001';
const MARKER = /\uE000(\d+)\uE001/g;

export function deferredMarker(index: number): string {
  return `${MARK_OPEN}${index}${MARK_CLOSE}`;
}

/** Puts the deferred actions back into a string produced from rendered text. */
export function restoreDeferred(text: string, deferred: readonly string[]): string {
  return text.includes(MARK_OPEN) ? text.replace(MARKER, (whole, index: string) => deferred[Number(index)] ?? whole) : text;
}

/** A value nobody gave, with what was asked for. */
class Missing extends Error {
  constructor(readonly what: string) {
    super(what);
  }
}

/** `.` inside `with` on a missing value: any field of it is missing too. */
const MISSING_DOT = Symbol('missing');

const DEFAULT_MAX_LENGTH = 4 * 1024 * 1024;

interface Segment {
  readonly out: number;
  readonly src: number;
  readonly length: number;
  readonly literal: boolean;
}

type Scope = Map<string, unknown>[];

export function renderGoTemplate(source: string, options: RenderOptions): Rendered {
  let nodes: readonly Node[];
  try {
    nodes = parseTemplate(source);
  } catch (error) {
    if (error instanceof TemplateSyntaxError) throw new TemplateRenderError(`template: ${error.message}`, error.offset, 'syntax');
    throw error;
  }
  const extra = options.functions ?? {};
  checkFunctions(nodes, extra);
  const missingIs = options.missingIs ?? false;
  const maxLength = options.maxLength ?? DEFAULT_MAX_LENGTH;
  const parts: string[] = [];
  const segments: Segment[] = [];
  const deferred: string[] = [];
  const notes: RenderNote[] = [];
  let length = 0;

  const emit = (text: string, src: number, literal: boolean): void => {
    if (text.length === 0) return;
    segments.push({ out: length, src, length: text.length, literal });
    parts.push(text);
    length += text.length;
    if (length > maxLength) throw new TemplateRenderError(`template: output longer than ${maxLength} characters`, src);
  };

  const field = (value: unknown, path: readonly string[], name: string): unknown => {
    let current = value;
    let walked = name;
    for (const key of path) {
      walked = `${walked === '' ? '' : walked}.${key}`;
      if (current === MISSING_DOT || current === undefined) throw new Missing(walked);
      if (typeof current !== 'object' || current === null || Array.isArray(current)) {
        throw new TemplateFunctionError(`can't evaluate field ${key} in ${current === null ? 'nil' : typeof current} (at ${walked})`);
      }
      if (!Object.hasOwn(current, key)) throw new Missing(walked);
      current = (current as Record<string, unknown>)[key];
    }
    return current;
  };

  const variable = (scope: Scope, name: string): unknown => {
    for (let at = scope.length - 1; at >= 0; at--) if (scope[at]!.has(name)) return scope[at]!.get(name);
    throw new TemplateFunctionError(`undefined variable: ${name}`);
  };

  const arg = (item: Arg, dot: unknown, scope: Scope): unknown => {
    switch (item.kind) {
      case 'dot':
        if (dot === MISSING_DOT) throw new Missing('.');
        return dot;
      case 'field':
        return field(dot, item.path, '');
      case 'variable':
        return field(variable(scope, item.name), item.path, item.name);
      case 'literal':
        return item.value;
      case 'pipeline':
        return field(pipeline(item.pipeline, dot, scope), item.path, '(...)');
      case 'function':
        return call(item.name, [], undefined, dot, scope);
    }
  };

  const call = (name: string, args: readonly Arg[], piped: { value: unknown } | undefined, dot: unknown, scope: Scope): unknown => {
    if (name === 'and' || name === 'or') {
      // Go evaluates and/or lazily, stopping at the first argument that decides.
      const values = [...args.map((item) => () => arg(item, dot, scope)), ...(piped === undefined ? [] : [() => piped.value])];
      if (values.length === 0) throw new TemplateFunctionError(`${name}: missing arguments`);
      let last: unknown;
      for (const next of values) {
        last = next();
        if (truthy(last) === (name === 'or')) return last;
      }
      return last;
    }
    const fn = lookupFunction(name, extra);
    const values = args.map((item) => arg(item, dot, scope));
    if (piped !== undefined) values.push(piped.value);
    try {
      return fn(...values);
    } catch (error) {
      if (error instanceof Unavailable) throw new Missing(`${name} (${error.message})`);
      if (error instanceof TemplateFunctionError) throw error;
      throw new TemplateFunctionError(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };

  const command = (item: Command, piped: { value: unknown } | undefined, dot: unknown, scope: Scope): unknown => {
    const [head, ...rest] = item.args;
    if (head!.kind === 'function') return call(head!.name, rest, piped, dot, scope);
    if (rest.length > 0 || piped !== undefined) {
      throw new TemplateFunctionError(`can't give arguments to a non-function value (${describeArg(head!)})`);
    }
    return arg(head!, dot, scope);
  };

  const pipeline = (item: Pipeline, dot: unknown, scope: Scope): unknown => {
    let piped: { value: unknown } | undefined;
    for (const cmd of item.commands) piped = { value: command(cmd, piped, dot, scope) };
    const value = piped!.value;
    for (const name of item.variables) {
      if (item.assign) {
        const frame = [...scope].reverse().find((candidate) => candidate.has(name));
        if (frame === undefined) throw new TemplateFunctionError(`undefined variable: ${name}`);
        frame.set(name, value);
      } else {
        scope.at(-1)!.set(name, value);
      }
    }
    return value;
  };

  const located = <T>(offset: number, run: () => T): T => {
    try {
      return run();
    } catch (error) {
      if (error instanceof TemplateFunctionError) throw new TemplateRenderError(`template: ${error.message}`, offset);
      throw error;
    }
  };

  const condition = (node: Node & { pipeline: Pipeline }, dot: unknown, scope: Scope): { value: unknown; missing: boolean } => {
    try {
      return { value: located(node.start, () => pipeline(node.pipeline, dot, scope)), missing: false };
    } catch (error) {
      if (!(error instanceof Missing)) throw error;
      const taken = node.kind === 'range' ? 'runs zero times' : `is taken as ${missingIs}`;
      notes.push({ offset: node.start, message: `${error.what} has no value here, so this {{${node.kind}}} ${taken}` });
      return { value: MISSING_DOT, missing: true };
    }
  };

  /**
   * A block written on one line is a value template (`skip_if: {{if ...}} true {{end}}`, a trigger's
   * filter): when its condition has no value yet it is kept as written for whoever renders the value
   * later. A block across lines shapes the YAML, so it is decided now.
   */
  const deferBlock = (node: Node & { pipeline: Pipeline }, dot: unknown, scope: Scope): boolean => {
    const written = source.slice(node.start, node.end);
    if (written.includes('\n')) return false;
    try {
      located(node.start, () => pipeline(node.pipeline, dot, [...scope, new Map()]));
      return false;
    } catch (error) {
      if (!(error instanceof Missing)) throw error;
      deferred.push(written);
      emit(deferredMarker(deferred.length - 1), node.start, false);
      return true;
    }
  };

  const walk = (list: readonly Node[], dot: unknown, scope: Scope): void => {
    for (const node of list) {
      switch (node.kind) {
        case 'text':
          emit(source.slice(node.start, node.end), node.start, true);
          break;
        case 'output': {
          try {
            const value = located(node.start, () => pipeline(node.pipeline, dot, scope));
            if (node.pipeline.variables.length === 0) emit(printValue(value), node.start, false);
          } catch (error) {
            if (!(error instanceof Missing)) throw error;
            deferred.push(source.slice(node.start, node.end));
            emit(deferredMarker(deferred.length - 1), node.start, false);
          }
          break;
        }
        case 'if':
        case 'with': {
          if (deferBlock(node, dot, scope)) break;
          const { value, missing } = condition(node, dot, scope);
          const taken = missing ? missingIs : truthy(value);
          const inner: Scope = [...scope, new Map()];
          if (taken) walk(node.body, node.kind === 'with' ? value : dot, inner);
          else walk(node.otherwise, dot, inner);
          break;
        }
        case 'range': {
          if (deferBlock(node, dot, scope)) break;
          const { value, missing } = condition(node, dot, [...scope]);
          const items = missing ? [] : located(node.start, () => entries(value));
          if (items.length === 0) walk(node.otherwise, dot, [...scope, new Map()]);
          for (const [key, item] of items) {
            const frame = new Map<string, unknown>();
            const names = node.pipeline.variables;
            if (names.length === 1) frame.set(names[0]!, item);
            if (names.length === 2) {
              frame.set(names[0]!, key);
              frame.set(names[1]!, item);
            }
            walk(node.body, item, [...scope, frame]);
          }
          break;
        }
      }
    }
  };

  walk(nodes, options.data, [new Map<string, unknown>([['$', options.data]])]);
  const text = parts.join('');
  return {
    text,
    deferred,
    notes,
    sourceOffset(offset) {
      let low = 0;
      let high = segments.length - 1;
      while (low < high) {
        const middle = (low + high + 1) >> 1;
        if (segments[middle]!.out <= offset) low = middle;
        else high = middle - 1;
      }
      const segment = segments[low];
      if (segment === undefined) return Math.min(offset, source.length);
      if (!segment.literal) return segment.src;
      return segment.src + Math.min(offset - segment.out, segment.length);
    },
  };
}

function entries(value: unknown): [unknown, unknown][] {
  if (value === null || value === undefined) return [];
  if (Array.isArray(value)) return value.map((item, index) => [index, item]);
  if (typeof value === 'number' && Number.isInteger(value)) return Array.from({ length: Math.max(0, value) }, (_, index) => [index, index]);
  if (typeof value === 'object') {
    return Object.keys(value)
      .sort()
      .map((key) => [key, (value as Record<string, unknown>)[key]]);
  }
  throw new TemplateFunctionError(`range can't iterate over ${printValue(value)}`);
}

function describeArg(item: Arg): string {
  switch (item.kind) {
    case 'field':
      return `.${item.path.join('.')}`;
    case 'variable':
      return item.name;
    case 'literal':
      return printValue(item.value);
    default:
      return item.kind;
  }
}

/** Go refuses a template that names an unknown function before running it; so does this, at the call. */
function checkFunctions(nodes: readonly Node[], extra: Readonly<Record<string, TemplateFunction>>): void {
  const inPipeline = (item: Pipeline, offset: number): void => {
    for (const cmd of item.commands) {
      for (const part of cmd.args) {
        if (part.kind === 'function' && !isKnownFunction(part.name, extra) && part.name !== 'and' && part.name !== 'or') {
          try {
            lookupFunction(part.name, extra);
          } catch (error) {
            throw new TemplateRenderError(`template: ${(error as Error).message}`, offset);
          }
        }
        if (part.kind === 'pipeline') inPipeline(part.pipeline, offset);
      }
    }
  };
  for (const node of nodes) {
    if (node.kind === 'text') continue;
    inPipeline(node.pipeline, node.start);
    if (node.kind !== 'output') {
      checkFunctions(node.body, extra);
      checkFunctions(node.otherwise, extra);
    }
  }
}

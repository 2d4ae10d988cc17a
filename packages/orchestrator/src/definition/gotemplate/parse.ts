/**
 * A parser for the subset of Go's text/template that Formicary definitions use: text, `{{ pipeline }}`
 * actions with `{{-`/`-}}` trimming, comments, `if`/`else if`/`else`, `range` (with `$i, $v :=`),
 * `with`, variables (`$x := ...`, `$x = ...`), pipes, parenthesised pipelines and literals.
 * `define`/`template`/`block` are refused with a message: no corpus definition uses them, and they
 * would let one definition pull in text from elsewhere. Offsets point into the original source.
 */

export class TemplateSyntaxError extends Error {
  override readonly name = 'TemplateSyntaxError';
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

export type Arg =
  | { readonly kind: 'dot' }
  | { readonly kind: 'field'; readonly path: readonly string[] }
  | { readonly kind: 'variable'; readonly name: string; readonly path: readonly string[] }
  | { readonly kind: 'function'; readonly name: string }
  | { readonly kind: 'literal'; readonly value: unknown }
  | { readonly kind: 'pipeline'; readonly pipeline: Pipeline; readonly path: readonly string[] };

export interface Command {
  readonly args: readonly Arg[];
}

export interface Pipeline {
  /** Variables declared (`:=`) or assigned (`=`) by this pipeline. */
  readonly variables: readonly string[];
  readonly assign: boolean;
  readonly commands: readonly Command[];
}

export type Node =
  | { readonly kind: 'text'; readonly start: number; readonly end: number }
  | { readonly kind: 'output'; readonly pipeline: Pipeline; readonly start: number; readonly end: number }
  | {
      readonly kind: 'if' | 'with' | 'range';
      readonly pipeline: Pipeline;
      readonly body: readonly Node[];
      readonly otherwise: readonly Node[];
      readonly start: number;
      readonly end: number;
    };

const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'define', 'template', 'block', 'break', 'continue']);

/** An action as found in the text: its trimmed inner source and where it sits. */
interface RawAction {
  readonly inner: string;
  readonly innerStart: number;
  readonly start: number;
  readonly end: number;
}

type Item = { readonly kind: 'text'; start: number; end: number } | { readonly kind: 'action'; readonly action: RawAction };

/** True when the text holds at least one `{{`. */
export function hasActions(source: string): boolean {
  return source.includes('{{');
}

function scan(source: string): Item[] {
  const items: Item[] = [];
  let at = 0;
  while (at <= source.length) {
    const open = source.indexOf('{{', at);
    if (open === -1) {
      items.push({ kind: 'text', start: at, end: source.length });
      break;
    }
    const text: Item = { kind: 'text', start: at, end: open };
    items.push(text);
    let innerStart = open + 2;
    const trimLeft = source.startsWith('{{- ', open) || source.startsWith('{{-\t', open) || source.startsWith('{{-\n', open);
    if (trimLeft) {
      innerStart += 1;
      text.end = trimEnd(source, text.start, text.end);
    }
    const close = findClose(source, innerStart);
    if (close === -1) throw new TemplateSyntaxError("unclosed action: '{{' without a matching '}}'", open);
    let innerEnd = close;
    let end = close + 2;
    const trimRight = close >= innerStart + 2 && /[ \t\n]-$/.test(source.slice(close - 2, close));
    if (trimRight) innerEnd -= 1;
    if (trimRight) end = skipSpace(source, end);
    items.push({ kind: 'action', action: { inner: source.slice(innerStart, innerEnd), innerStart, start: open, end: close + 2 } });
    at = end;
  }
  return items.filter((item) => item.kind === 'action' || item.end > item.start);
}

/** The `}}` closing an action, skipping quoted strings (a `}}` inside "..." does not end it). */
function findClose(source: string, from: number): number {
  for (let at = from; at < source.length; at++) {
    const char = source[at];
    if (char === '"' || char === '`') {
      const quote = char;
      at++;
      while (at < source.length && source[at] !== quote) {
        if (quote === '"' && source[at] === '\\') at++;
        if (source[at] === '\n' && quote === '"') return -1;
        at++;
      }
    } else if (char === '/' && source.startsWith('/*', at)) {
      const stop = source.indexOf('*/', at + 2);
      if (stop === -1) return -1;
      at = stop + 1;
    } else if (char === '}' && source[at + 1] === '}') {
      return at;
    }
  }
  return -1;
}

function trimEnd(source: string, start: number, end: number): number {
  let at = end;
  while (at > start && /\s/.test(source[at - 1]!)) at--;
  return at;
}

function skipSpace(source: string, from: number): number {
  let at = from;
  while (at < source.length && /\s/.test(source[at]!)) at++;
  return at;
}

type Token =
  | { readonly type: 'field'; readonly path: readonly string[]; readonly at: number }
  | { readonly type: 'variable'; readonly name: string; readonly path: readonly string[]; readonly at: number }
  | { readonly type: 'ident'; readonly name: string; readonly at: number }
  | { readonly type: 'literal'; readonly value: unknown; readonly at: number }
  | { readonly type: 'dot'; readonly at: number }
  | { readonly type: '(' | ')' | '|' | ':=' | '=' | ','; readonly at: number; readonly path?: readonly string[] };

const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;
const FIELD_CHAIN = /(?:\.[A-Za-z_][A-Za-z0-9_]*)+/y;
const NUMBER = /[-+]?(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO]?[0-7_]+(?![.eE0-9])|(?:\d[\d_]*)?\.?\d[\d_]*(?:[eE][-+]?\d+)?)/y;

function tokenize(action: RawAction): Token[] {
  const { inner, innerStart } = action;
  const tokens: Token[] = [];
  const sticky = (pattern: RegExp, at: number): string | undefined => {
    pattern.lastIndex = at;
    return pattern.exec(inner)?.[0];
  };
  const chain = (at: number): string[] => {
    const text = sticky(FIELD_CHAIN, at);
    return text === undefined ? [] : text.slice(1).split('.');
  };
  let at = 0;
  while (at < inner.length) {
    const char = inner[at]!;
    const offset = innerStart + at;
    if (/\s/.test(char)) {
      at++;
    } else if (char === '(' || char === ')' || char === '|' || char === ',' || char === '=') {
      if (char === ')') {
        const path = chain(at + 1);
        tokens.push({ type: ')', at: offset, path });
        at += 1 + (path.length === 0 ? 0 : path.join('.').length + 1);
      } else {
        tokens.push({ type: char, at: offset });
        at++;
      }
    } else if (char === ':' && inner[at + 1] === '=') {
      tokens.push({ type: ':=', at: offset });
      at += 2;
    } else if (char === '"') {
      let end = at + 1;
      while (end < inner.length && inner[end] !== '"') end += inner[end] === '\\' ? 2 : 1;
      if (end >= inner.length) throw new TemplateSyntaxError('unterminated quoted string', offset);
      let value: unknown;
      try {
        value = JSON.parse(inner.slice(at, end + 1));
      } catch {
        throw new TemplateSyntaxError(`bad quoted string ${inner.slice(at, end + 1)}`, offset);
      }
      tokens.push({ type: 'literal', value, at: offset });
      at = end + 1;
    } else if (char === '`') {
      const end = inner.indexOf('`', at + 1);
      if (end === -1) throw new TemplateSyntaxError('unterminated raw string', offset);
      tokens.push({ type: 'literal', value: inner.slice(at + 1, end), at: offset });
      at = end + 1;
    } else if (char === "'") {
      const end = inner.indexOf("'", at + 1);
      if (end === -1) throw new TemplateSyntaxError('unterminated character constant', offset);
      tokens.push({ type: 'literal', value: inner.codePointAt(at + 1), at: offset });
      at = end + 1;
    } else if (char === '.') {
      const path = chain(at);
      if (path.length === 0) {
        tokens.push({ type: 'dot', at: offset });
        at++;
      } else {
        tokens.push({ type: 'field', path, at: offset });
        at += path.join('.').length + 1;
      }
    } else if (char === '$') {
      const name = sticky(IDENT, at + 1) ?? '';
      const path = chain(at + 1 + name.length);
      tokens.push({ type: 'variable', name: `$${name}`, path, at: offset });
      at += 1 + name.length + (path.length === 0 ? 0 : path.join('.').length + 1);
    } else if (/[0-9+-]/.test(char) || (char === '.' && /\d/.test(inner[at + 1] ?? ''))) {
      const text = sticky(NUMBER, at);
      if (text === undefined || text === '-' || text === '+') throw new TemplateSyntaxError(`unexpected '${char}' in action`, offset);
      tokens.push({ type: 'literal', value: numberValue(text, offset), at: offset });
      at += text.length;
    } else if (/[A-Za-z_]/.test(char)) {
      const name = sticky(IDENT, at)!;
      const value = name === 'true' ? true : name === 'false' ? false : name === 'nil' ? null : undefined;
      tokens.push(value === undefined && name !== 'nil' ? { type: 'ident', name, at: offset } : { type: 'literal', value, at: offset });
      at += name.length;
    } else {
      throw new TemplateSyntaxError(`unexpected '${char}' in action`, offset);
    }
  }
  return tokens;
}

/** Integers beyond 2^53 stay exact as bigint (Formicary's nonces are 64-bit). */
function numberValue(text: string, offset: number): number | bigint {
  const clean = text.replaceAll('_', '');
  if (/^[-+]?\d+$/.test(clean)) {
    const big = BigInt(clean);
    return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  }
  const value = Number(clean);
  if (Number.isNaN(value)) throw new TemplateSyntaxError(`bad number syntax: ${text}`, offset);
  return value;
}

class PipelineParser {
  private at = 0;
  constructor(
    private readonly tokens: readonly Token[],
    private readonly end: number,
  ) {}

  pipeline(allowDeclaration: boolean, allowTwo = false): Pipeline {
    const variables: string[] = [];
    let assign = false;
    if (allowDeclaration) {
      const save = this.at;
      const names: string[] = [];
      while (this.peek()?.type === 'variable' && (this.peek() as { path: readonly string[] }).path.length === 0) {
        names.push((this.next() as { name: string }).name);
        if (this.peek()?.type === ',' && allowTwo && names.length === 1) {
          this.next();
          continue;
        }
        break;
      }
      const operator = this.peek()?.type;
      if (names.length > 0 && (operator === ':=' || operator === '=')) {
        this.next();
        variables.push(...names);
        assign = operator === '=';
      } else {
        this.at = save;
      }
    }
    const commands: Command[] = [];
    for (;;) {
      const args: Arg[] = [];
      while (this.peek() !== undefined && this.peek()!.type !== '|' && this.peek()!.type !== ')') args.push(this.operand());
      if (args.length === 0)
        throw new TemplateSyntaxError(commands.length === 0 ? 'missing value for command' : "empty command after '|'", this.offset());
      commands.push({ args });
      if (this.peek()?.type !== '|') break;
      this.next();
    }
    return { variables, assign, commands };
  }

  done(): boolean {
    return this.at >= this.tokens.length;
  }

  offset(): number {
    return this.peek()?.at ?? this.end;
  }

  private operand(): Arg {
    const token = this.next()!;
    switch (token.type) {
      case 'dot':
        return { kind: 'dot' };
      case 'field':
        return { kind: 'field', path: token.path };
      case 'variable':
        return { kind: 'variable', name: token.name, path: token.path };
      case 'literal':
        return { kind: 'literal', value: token.value };
      case 'ident':
        if (KEYWORDS.has(token.name)) throw new TemplateSyntaxError(`unexpected '${token.name}' in operand`, token.at);
        return { kind: 'function', name: token.name };
      case '(': {
        const pipeline = this.pipeline(false);
        const close = this.next();
        if (close?.type !== ')') throw new TemplateSyntaxError("unclosed '(' in action", token.at);
        return { kind: 'pipeline', pipeline, path: close.path ?? [] };
      }
      default:
        throw new TemplateSyntaxError(`unexpected '${token.type}' in operand`, token.at);
    }
  }

  private peek(): Token | undefined {
    return this.tokens[this.at];
  }

  private next(): Token | undefined {
    return this.tokens[this.at++];
  }
}

interface Frame {
  readonly kind: 'root' | 'if' | 'with' | 'range';
  readonly start: number;
  readonly pipeline?: Pipeline;
  readonly body: Node[];
  otherwise?: Node[];
  /** `else if` / `else with` open an implicit nested block that the same `end` closes. */
  readonly chained: boolean;
}

/** The whole template as a tree; throws TemplateSyntaxError at the offending offset. */
export function parseTemplate(source: string): readonly Node[] {
  const root: Frame = { kind: 'root', start: 0, body: [], chained: false };
  const stack: Frame[] = [root];
  const current = (): Node[] => {
    const frame = stack.at(-1)!;
    return frame.otherwise ?? frame.body;
  };
  const close = (end: number): void => {
    for (;;) {
      const frame = stack.pop()!;
      const node: Node = {
        kind: frame.kind as 'if',
        pipeline: frame.pipeline!,
        body: frame.body,
        otherwise: frame.otherwise ?? [],
        start: frame.start,
        end,
      };
      current().push(node);
      if (!frame.chained) return;
    }
  };
  for (const item of scan(source)) {
    if (item.kind === 'text') {
      current().push({ kind: 'text', start: item.start, end: item.end });
      continue;
    }
    const { action } = item;
    const trimmed = action.inner.trim();
    if (trimmed.startsWith('/*')) {
      if (!trimmed.endsWith('*/')) throw new TemplateSyntaxError('comment must end with */ right before the closing }}', action.start);
      continue;
    }
    const tokens = tokenize(action);
    const first = tokens[0];
    if (first === undefined) throw new TemplateSyntaxError('missing value for command', action.start);
    const keyword = first.type === 'ident' && KEYWORDS.has(first.name) ? first.name : undefined;
    const parser = new PipelineParser(keyword === undefined ? tokens : tokens.slice(1), action.start);
    const expectEnd = () => {
      if (!parser.done()) throw new TemplateSyntaxError(`unexpected '${trimmed}': extra tokens`, parser.offset());
    };
    switch (keyword) {
      case undefined: {
        const pipeline = parser.pipeline(true);
        expectEnd();
        current().push({ kind: 'output', pipeline, start: action.start, end: action.end });
        break;
      }
      case 'if':
      case 'with':
      case 'range': {
        const pipeline = parser.pipeline(keyword !== 'if', keyword === 'range');
        expectEnd();
        stack.push({ kind: keyword, start: action.start, pipeline, body: [], chained: false });
        break;
      }
      case 'else': {
        const frame = stack.at(-1)!;
        if (frame.kind === 'root' || frame.otherwise !== undefined) throw new TemplateSyntaxError("unexpected '{{else}}'", action.start);
        frame.otherwise = [];
        const next = tokens[1];
        if (next?.type === 'ident' && (next.name === 'if' || next.name === 'with')) {
          const chained = new PipelineParser(tokens.slice(2), action.start);
          const pipeline = chained.pipeline(next.name === 'with');
          if (!chained.done()) throw new TemplateSyntaxError('unexpected extra tokens after else', chained.offset());
          stack.push({ kind: next.name, start: action.start, pipeline, body: [], chained: true });
        } else if (tokens.length > 1) {
          throw new TemplateSyntaxError("unexpected tokens after 'else'", tokens[1]!.at);
        }
        break;
      }
      case 'end': {
        if (tokens.length > 1) throw new TemplateSyntaxError("unexpected tokens after 'end'", tokens[1]!.at);
        if (stack.length === 1) throw new TemplateSyntaxError("unexpected '{{end}}': no if, range or with is open", action.start);
        close(action.end);
        break;
      }
      default:
        throw new TemplateSyntaxError(
          `'{{${keyword}}}' is not supported: definitions are rendered as one template, without named templates or loop control`,
          action.start,
        );
    }
  }
  if (stack.length > 1) {
    const open = stack.at(-1)!;
    throw new TemplateSyntaxError(`'{{${open.kind}}}' is never closed: add '{{end}}'`, open.start);
  }
  return root.body;
}

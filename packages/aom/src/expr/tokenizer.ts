import { ExpressionError, LIMITS } from './ast.js';

export type TokenKind = 'number' | 'string' | 'identifier' | 'keyword' | 'operator' | 'end';

export interface Token {
  readonly kind: TokenKind;
  /** Operator or keyword text, identifier name, or the literal's source text. */
  readonly text: string;
  /** Decoded value of number and string literals. */
  readonly value?: number | string;
  readonly at: number;
}

const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'true', 'false', 'null']);
const OPERATORS = ['==', '!=', '<=', '>=', '<', '>', '+', '-', '*', '/', '%', '(', ')', '[', ']', ','];
const NUMBER = /\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const IDENTIFIER = /[A-Za-z_][A-Za-z0-9_]*/y;
const SPACE = /\s+/y;
const ESCAPES: Readonly<Record<string, string>> = { '"': '"', "'": "'", '\\': '\\', n: '\n', t: '\t', r: '\r' };

/** Splits source text into tokens, refusing anything outside the grammar at the first wrong character. */
export function tokenize(source: string): Token[] {
  if (typeof source !== 'string') throw new ExpressionError(String(source), -1, 'an expression must be a string');
  if (source.length > LIMITS.source) {
    throw new ExpressionError(source, -1, `expression is ${source.length} characters long; the limit is ${LIMITS.source}`);
  }
  const tokens: Token[] = [];
  let at = 0;
  const push = (token: Token) => {
    if (tokens.length >= LIMITS.tokens) throw new ExpressionError(source, token.at, `expression has more than ${LIMITS.tokens} tokens`);
    tokens.push(token);
  };
  while (at < source.length) {
    const space = match(SPACE, source, at);
    if (space) {
      at += space.length;
      continue;
    }
    const char = source[at]!;
    if (char === '"' || char === "'") {
      const { value, end } = readString(source, at);
      push({ kind: 'string', text: source.slice(at, end), value, at });
      at = end;
      continue;
    }
    const number = match(NUMBER, source, at);
    if (number) {
      const value = Number(number);
      if (!Number.isFinite(value)) throw new ExpressionError(source, at, `number ${number} is out of range`);
      push({ kind: 'number', text: number, value, at });
      at += number.length;
      continue;
    }
    const word = match(IDENTIFIER, source, at);
    if (word) {
      push({ kind: KEYWORDS.has(word) ? 'keyword' : 'identifier', text: word, at });
      at += word.length;
      continue;
    }
    const op = OPERATORS.find((candidate) => source.startsWith(candidate, at));
    if (!op) throw new ExpressionError(source, at, `unexpected character ${JSON.stringify(char)}`);
    push({ kind: 'operator', text: op, at });
    at += op.length;
  }
  tokens.push({ kind: 'end', text: '', at: source.length });
  return tokens;
}

function match(pattern: RegExp, source: string, at: number): string | undefined {
  pattern.lastIndex = at;
  return pattern.exec(source)?.[0];
}

function readString(source: string, start: number): { value: string; end: number } {
  const quote = source[start];
  let value = '';
  let at = start + 1;
  while (at < source.length) {
    const char = source[at]!;
    if (char === quote) return { value, end: at + 1 };
    if (char !== '\\') {
      value += char;
      at += 1;
      continue;
    }
    const escaped = source[at + 1];
    if (escaped === 'u') {
      const hex = source.slice(at + 2, at + 6);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new ExpressionError(source, at, 'a \\u escape needs four hex digits');
      value += String.fromCharCode(Number.parseInt(hex, 16));
      at += 6;
      continue;
    }
    const decoded = escaped === undefined ? undefined : ESCAPES[escaped];
    if (decoded === undefined) throw new ExpressionError(source, at, `unknown escape \\${escaped ?? ''}`);
    value += decoded;
    at += 2;
  }
  throw new ExpressionError(source, start, 'string is not closed');
}

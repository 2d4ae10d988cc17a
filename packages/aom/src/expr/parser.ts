import { type BinaryOperator, ExpressionError, type ExprNode, LIMITS } from './ast.js';
import { FUNCTIONS, SPECIAL_FORMS } from './functions.js';
import { type Token, tokenize } from './tokenizer.js';

/** Binding powers of infix operators: higher binds tighter. Comparisons do not chain. */
const INFIX: ReadonlyMap<string, { left: number; right: number }> = new Map([
  ['or', { left: 1, right: 2 }],
  ['and', { left: 3, right: 4 }],
  ['==', { left: 7, right: 8 }],
  ['!=', { left: 7, right: 8 }],
  ['<', { left: 7, right: 8 }],
  ['<=', { left: 7, right: 8 }],
  ['>', { left: 7, right: 8 }],
  ['>=', { left: 7, right: 8 }],
  ['in', { left: 7, right: 8 }],
  ['+', { left: 9, right: 10 }],
  ['-', { left: 9, right: 10 }],
  ['*', { left: 11, right: 12 }],
  ['/', { left: 11, right: 12 }],
  ['%', { left: 11, right: 12 }],
]);
const COMPARISON = 7;
/** `not x == y` reads as `not (x == y)`, `not a and b` as `(not a) and b`. */
const NOT_OPERAND = 5;
const NEGATE_OPERAND = 13;

/** Parses source text into the AST with a Pratt parser; throws ExpressionError naming the column. */
export function parse(source: string): ExprNode {
  const parser = new Parser(source, tokenize(source));
  const node = parser.expression(0, 0);
  parser.expectEnd();
  return node;
}

class Parser {
  private index = 0;
  constructor(
    private readonly source: string,
    private readonly tokens: readonly Token[],
  ) {}

  private peek(): Token {
    return this.tokens[this.index]!;
  }

  private next(): Token {
    const token = this.tokens[this.index]!;
    if (token.kind !== 'end') this.index += 1;
    return token;
  }

  private fail(token: Token, detail: string): never {
    throw new ExpressionError(this.source, token.at, detail);
  }

  private expect(text: string): Token {
    const token = this.next();
    if (token.text !== text || (token.kind !== 'operator' && token.kind !== 'keyword')) {
      this.fail(token, `expected ${JSON.stringify(text)} but found ${describeToken(token)}`);
    }
    return token;
  }

  expectEnd(): void {
    const token = this.peek();
    if (token.kind !== 'end') this.fail(token, `unexpected ${describeToken(token)}`);
  }

  expression(minPower: number, depth: number): ExprNode {
    // Depth is checked before recursing, so nesting can never reach the host's stack limit.
    if (depth > LIMITS.depth) this.fail(this.peek(), `expression nests deeper than ${LIMITS.depth} levels`);
    let left = this.prefix(depth);
    let comparisons = 0;
    for (;;) {
      const token = this.peek();
      const power = token.kind === 'operator' || token.kind === 'keyword' ? INFIX.get(token.text) : undefined;
      if (!power || power.left < minPower) return left;
      if (power.left === COMPARISON && ++comparisons > 1) this.fail(token, 'comparisons do not chain; join them with "and"');
      this.next();
      const right = this.expression(power.right, depth + 1);
      left =
        token.text === 'and' || token.text === 'or'
          ? { kind: 'logical', op: token.text, left, right, at: token.at }
          : { kind: 'binary', op: token.text as BinaryOperator, left, right, at: token.at };
    }
  }

  private prefix(depth: number): ExprNode {
    const token = this.next();
    switch (token.kind) {
      case 'number':
      case 'string':
        return { kind: 'literal', value: token.value!, at: token.at };
      case 'identifier':
        return this.peek().text === '(' && this.peek().kind === 'operator'
          ? this.call(token, depth)
          : { kind: 'identifier', name: token.text, at: token.at };
      case 'keyword':
        if (token.text === 'true' || token.text === 'false') return { kind: 'literal', value: token.text === 'true', at: token.at };
        if (token.text === 'null') return { kind: 'literal', value: null, at: token.at };
        if (token.text === 'not') return { kind: 'not', operand: this.expression(NOT_OPERAND, depth + 1), at: token.at };
        return this.fail(token, `unexpected ${describeToken(token)}`);
      case 'operator':
        if (token.text === '(') {
          const inner = this.expression(0, depth + 1);
          this.expect(')');
          return inner;
        }
        if (token.text === '[') return { kind: 'list', items: this.arguments(']', depth), at: token.at };
        if (token.text === '-') return { kind: 'negate', operand: this.expression(NEGATE_OPERAND, depth + 1), at: token.at };
        return this.fail(token, `unexpected ${describeToken(token)}`);
      default:
        return this.fail(token, 'unexpected end of expression');
    }
  }

  private call(name: Token, depth: number): ExprNode {
    const arity = FUNCTIONS.get(name.text) ?? SPECIAL_FORMS.get(name.text);
    if (!arity) this.fail(name, `unknown function ${name.text}`);
    this.next();
    const args = this.arguments(')', depth);
    if (args.length < arity.min || args.length > arity.max) {
      const wanted = arity.min === arity.max ? `${arity.min}` : `${arity.min} to ${arity.max}`;
      this.fail(name, `${name.text} takes ${wanted} argument${arity.max === 1 ? '' : 's'}, got ${args.length}`);
    }
    return { kind: 'call', name: name.text, args, at: name.at };
  }

  /** Comma-separated expressions up to `close`, which is consumed. */
  private arguments(close: string, depth: number): ExprNode[] {
    const items: ExprNode[] = [];
    if (this.peek().text === close && this.peek().kind === 'operator') {
      this.next();
      return items;
    }
    for (;;) {
      items.push(this.expression(0, depth + 1));
      const token = this.next();
      if (token.kind === 'operator' && token.text === close) return items;
      if (token.kind !== 'operator' || token.text !== ',') this.fail(token, `expected "," or "${close}" but found ${describeToken(token)}`);
    }
  }
}

function describeToken(token: Token): string {
  return token.kind === 'end' ? 'the end of the expression' : JSON.stringify(token.text);
}

/** A value the expression language computes with: JSON scalars and lists of them. */
export type ExprValue = null | boolean | number | string | readonly ExprValue[];

export type BinaryOperator = '+' | '-' | '*' | '/' | '%' | '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in';

/**
 * The whole AST. The evaluator switches over `kind`, so a node kind that is not listed here
 * cannot exist, and there is no node for member access, indexing or assignment at all.
 */
export type ExprNode =
  | { readonly kind: 'literal'; readonly value: ExprValue; readonly at: number }
  | { readonly kind: 'identifier'; readonly name: string; readonly at: number }
  | { readonly kind: 'list'; readonly items: readonly ExprNode[]; readonly at: number }
  | { readonly kind: 'negate'; readonly operand: ExprNode; readonly at: number }
  | { readonly kind: 'not'; readonly operand: ExprNode; readonly at: number }
  | { readonly kind: 'binary'; readonly op: BinaryOperator; readonly left: ExprNode; readonly right: ExprNode; readonly at: number }
  | { readonly kind: 'logical'; readonly op: 'and' | 'or'; readonly left: ExprNode; readonly right: ExprNode; readonly at: number }
  | { readonly kind: 'call'; readonly name: string; readonly args: readonly ExprNode[]; readonly at: number };

/** Hard limits that keep hostile or accidental input from exhausting the host. */
export const LIMITS = {
  /** Characters of source text. */
  source: 4096,
  /** Tokens in one expression. */
  tokens: 1024,
  /** Nesting of parentheses, lists, calls and prefix operators. */
  depth: 48,
  /** Length of any string the evaluator builds. */
  string: 65_536,
} as const;

export class ExpressionError extends Error {
  override name = 'ExpressionError';
  constructor(
    readonly source: string,
    /** Zero-based offset in `source`, or -1 when the error is not tied to one place. */
    readonly at: number,
    readonly detail: string,
  ) {
    super(at >= 0 ? `${detail} at column ${at + 1} of "${preview(source)}"` : `${detail} in "${preview(source)}"`);
  }
}

function preview(source: string): string {
  return source.length > 80 ? `${source.slice(0, 77)}...` : source;
}

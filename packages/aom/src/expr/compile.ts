import { ExpressionError, type ExprNode, type ExprValue } from './ast.js';
import { compileNode, truthy } from './evaluate.js';
import { parse } from './parser.js';

/** A parsed expression bound to the names it may read. */
export interface CompiledExpression {
  readonly source: string;
  readonly ast: ExprNode;
  /** Every identifier the expression reads. */
  readonly identifiers: ReadonlySet<string>;
  /** Evaluates over a record of values; only own properties named in the scope are read. */
  evaluate(values: Readonly<Record<string, unknown>>): ExprValue;
  /** Evaluates and applies the language's truthiness (only null and false are false). */
  test(values: Readonly<Record<string, unknown>>): boolean;
}

/**
 * Parses `source` and checks that it only reads names from `scope`, so an unknown name such
 * as `constructor` or `__proto__` is refused before anything runs.
 */
export function compileExpression(source: string, scope: ReadonlySet<string>): CompiledExpression {
  const ast = parse(source);
  const identifiers = new Set<string>();
  collect(ast, (node) => {
    if (!scope.has(node.name)) throw new ExpressionError(source, node.at, `unknown name ${node.name}`);
    identifiers.add(node.name);
  });
  const evaluate = compileNode(ast, source);
  return { source, ast, identifiers, evaluate, test: (values) => truthy(evaluate(values)) };
}

function collect(node: ExprNode, visit: (node: Extract<ExprNode, { kind: 'identifier' }>) => void): void {
  switch (node.kind) {
    case 'identifier':
      visit(node);
      return;
    case 'list':
      for (const item of node.items) collect(item, visit);
      return;
    case 'call':
      for (const arg of node.args) collect(arg, visit);
      return;
    case 'negate':
    case 'not':
      collect(node.operand, visit);
      return;
    case 'binary':
    case 'logical':
      collect(node.left, visit);
      collect(node.right, visit);
      return;
    case 'literal':
      return;
  }
}

import { ExpressionError, type ExprNode, type ExprValue, LIMITS } from './ast.js';
import { describe, equal, FUNCTIONS } from './functions.js';

/** Only null and false are false; everything else (0 and "" included) is true. */
export function truthy(value: ExprValue): boolean {
  return value !== null && value !== false;
}

export type Values = Readonly<Record<string, unknown>>;
export type Evaluator = (values: Values) => ExprValue;

/**
 * Turns the AST into nested closures once, so evaluating is a chain of direct calls with no
 * dispatch on node kinds. Every node kind is listed; identifiers read only own properties of the
 * values, and nothing else can reach objects, prototypes or globals.
 */
export function compileNode(node: ExprNode, source: string): Evaluator {
  const fail = (at: number, detail: string): never => {
    throw new ExpressionError(source, at, detail);
  };
  switch (node.kind) {
    case 'literal': {
      const { value } = node;
      return () => value;
    }
    case 'identifier': {
      const { name } = node;
      return (values) => (Object.hasOwn(values, name) ? toExprValue(values[name], source) : null);
    }
    case 'list': {
      const items = node.items.map((item) => compileNode(item, source));
      return (values) => items.map((item) => item(values));
    }
    case 'negate': {
      const operand = compileNode(node.operand, source);
      return (values) => {
        const value = operand(values);
        if (value === null) return null;
        if (typeof value !== 'number') return fail(node.at, `cannot negate ${describe(value)}`);
        return -value;
      };
    }
    case 'not': {
      const operand = compileNode(node.operand, source);
      return (values) => !truthy(operand(values));
    }
    case 'logical': {
      const left = compileNode(node.left, source);
      const right = compileNode(node.right, source);
      return node.op === 'and'
        ? (values) => truthy(left(values)) && truthy(right(values))
        : (values) => truthy(left(values)) || truthy(right(values));
    }
    case 'binary': {
      const left = compileNode(node.left, source);
      const right = compileNode(node.right, source);
      const { op, at } = node;
      const failHere = (detail: string) => fail(at, detail);
      return (values) => binary(op, left(values), right(values), failHere);
    }
    case 'call': {
      const args = node.args.map((arg) => compileNode(arg, source));
      if (node.name === 'if') {
        const [test, then, otherwise] = args as [Evaluator, Evaluator, Evaluator];
        return (values) => (truthy(test(values)) ? then(values) : otherwise(values));
      }
      if (node.name === 'coalesce') {
        return (values) => {
          for (const arg of args) {
            const value = arg(values);
            if (value !== null) return value;
          }
          return null;
        };
      }
      const spec = FUNCTIONS.get(node.name);
      if (!spec) return fail(node.at, `unknown function ${node.name}`);
      const failHere = (detail: string) => fail(node.at, detail);
      return (values) =>
        spec.call(
          args.map((arg) => arg(values)),
          failHere,
        );
    }
  }
}

/** Entity values are JSON; anything else (a function, an object) is refused rather than exposed. */
function toExprValue(value: unknown, source: string): ExprValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (Array.isArray(value)) return value.map((item) => toExprValue(item, source));
  throw new ExpressionError(source, -1, `a value of kind ${typeof value} cannot be used in an expression`);
}

function binary(op: string, left: ExprValue, right: ExprValue, fail: (detail: string) => never): ExprValue {
  switch (op) {
    case '==':
      return equal(left, right);
    case '!=':
      return !equal(left, right);
    case 'in':
      if (right === null) return false;
      if (Array.isArray(right)) return right.some((item) => equal(item, left));
      if (typeof right === 'string' && typeof left === 'string') return right.includes(left);
      return fail(`"in" needs a list (or a string) on its right, got ${describe(right)}`);
    case '<':
    case '<=':
    case '>':
    case '>=': {
      // A comparison with an absent value is false rather than an error, so optional properties read naturally.
      if (left === null || right === null) return false;
      if (!((typeof left === 'number' && typeof right === 'number') || (typeof left === 'string' && typeof right === 'string'))) {
        return fail(`cannot compare ${describe(left)} with ${describe(right)}`);
      }
      if (op === '<') return left < right;
      if (op === '<=') return left <= right;
      if (op === '>') return left > right;
      return left >= right;
    }
    default:
      return arithmetic(op, left, right, fail);
  }
}

function arithmetic(op: string, left: ExprValue, right: ExprValue, fail: (detail: string) => never): ExprValue {
  if (left === null || right === null) return null;
  if (op === '+' && typeof left === 'string' && typeof right === 'string') {
    if (left.length + right.length > LIMITS.string) fail(`string would be longer than ${LIMITS.string} characters`);
    return left + right;
  }
  if (typeof left !== 'number' || typeof right !== 'number')
    return fail(`cannot apply "${op}" to ${describe(left)} and ${describe(right)}`);
  switch (op) {
    case '+':
      return left + right;
    case '-':
      return left - right;
    case '*':
      return left * right;
    case '/':
      if (right === 0) return fail('division by zero');
      return left / right;
    default:
      if (right === 0) return fail('division by zero');
      return left % right;
  }
}

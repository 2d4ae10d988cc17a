import { ExpressionError, type ExprNode, type ExprValue, LIMITS } from './ast.js';
import { describe, equal, FUNCTIONS } from './functions.js';

/** Looks a name up; the compiler has already proved the name is one the scope declares. */
export type Lookup = (name: string) => ExprValue;

/** Only null and false are false; everything else (0 and "" included) is true. */
export function truthy(value: ExprValue): boolean {
  return value !== null && value !== false;
}

/** Walks the AST. Every node kind is listed; nothing reaches objects, prototypes or globals. */
export function evaluate(node: ExprNode, lookup: Lookup, source: string): ExprValue {
  const fail = (at: number, detail: string): never => {
    throw new ExpressionError(source, at, detail);
  };
  const run = (current: ExprNode): ExprValue => {
    switch (current.kind) {
      case 'literal':
        return current.value;
      case 'identifier':
        return lookup(current.name);
      case 'list':
        return current.items.map(run);
      case 'negate': {
        const value = run(current.operand);
        if (value === null) return null;
        if (typeof value !== 'number') return fail(current.at, `cannot negate ${describe(value)}`);
        return -value;
      }
      case 'not':
        return !truthy(run(current.operand));
      case 'logical': {
        const left = truthy(run(current.left));
        if (current.op === 'and' ? !left : left) return left;
        return truthy(run(current.right));
      }
      case 'binary':
        return binary(current.op, run(current.left), run(current.right), (detail) => fail(current.at, detail));
      case 'call': {
        if (current.name === 'if') return truthy(run(current.args[0]!)) ? run(current.args[1]!) : run(current.args[2]!);
        if (current.name === 'coalesce') {
          for (const arg of current.args) {
            const value = run(arg);
            if (value !== null) return value;
          }
          return null;
        }
        const spec = FUNCTIONS.get(current.name);
        if (!spec) return fail(current.at, `unknown function ${current.name}`);
        return spec.call(current.args.map(run), (detail) => fail(current.at, detail));
      }
    }
  };
  return run(node);
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

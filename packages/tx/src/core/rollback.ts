import type { ErrorMatcher } from './options.js';

type ErrorClass = abstract new (...args: never[]) => unknown;

/** Classes (ES classes, Error and its built-in subclasses) match by instanceof; other functions are predicates. */
function isClass(matcher: ErrorMatcher): matcher is ErrorClass {
  const prototype: unknown = matcher.prototype;
  if (typeof prototype !== 'object' || prototype === null) return false;
  return prototype === Error.prototype || prototype instanceof Error || Function.prototype.toString.call(matcher).startsWith('class');
}

export function matchesError(matcher: ErrorMatcher, error: unknown): boolean {
  if (isClass(matcher)) return error instanceof matcher;
  return (matcher as (error: unknown) => boolean)(error) === true;
}

/**
 * Spring's rule: an explicit `noRollbackOn` match commits, anything else rolls back (JavaScript has
 * no checked errors, so the default is "every error rolls back"). When both lists match, `rollbackOn`
 * wins, because a lost rollback is the worse mistake.
 */
export function shouldRollback(
  error: unknown,
  rules: { rollbackOn: readonly ErrorMatcher[]; noRollbackOn: readonly ErrorMatcher[] },
): boolean {
  if (rules.rollbackOn.some((m) => matchesError(m, error))) return true;
  return !rules.noRollbackOn.some((m) => matchesError(m, error));
}

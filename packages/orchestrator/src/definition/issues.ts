import type * as z from 'zod';
import type { Finding } from './errors.js';
import { BACKOFF_KEYS, JOB_KEYS, TASK_KEYS } from './schema.js';
import type { Path } from './source.js';
import { suggestion } from './suggest.js';

/**
 * zod issues in the words of this domain. Passed to `safeParse` as the per-parse error map, so a
 * message written on a schema (durations, names) still wins over these.
 */
export const describeIssue: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined
        ? `missing required key '${String(issue.path?.at(-1))}'`
        : `expected ${article(issue.expected)}, got ${describeValue(issue.input)}`;
    case 'too_small':
      return issue.origin === 'array'
        ? `expected at least ${issue.minimum} item${issue.minimum === 1 ? '' : 's'}`
        : issue.origin === 'string'
          ? 'must not be empty'
          : `must be at least ${issue.minimum}, got ${describeValue(issue.input)}`;
    case 'too_big':
      return issue.origin === 'array'
        ? `too many items: ${(issue.input as unknown[]).length} (at most ${issue.maximum})`
        : `must be at most ${issue.maximum}, got ${describeValue(issue.input)}`;
    case 'invalid_union':
      return 'matches none of the accepted forms';
    case 'invalid_value':
      return `expected one of ${issue.values.map((value) => String(value)).join(', ')}, got ${describeValue(issue.input)}`;
    default:
      return undefined;
  }
};

/** Findings for every zod issue; union failures are reported through the branch the value was meant for. */
export function findingsFromIssues(issues: readonly z.core.$ZodIssue[], base: Path = []): Finding[] {
  return issues.flatMap((issue): Finding[] => {
    const path = [...base, ...issue.path.map((segment) => (typeof segment === 'symbol' ? String(segment) : segment))];
    switch (issue.code) {
      case 'unrecognized_keys':
        return issue.keys.map((key) => ({
          path: [...path, key],
          at: 'key',
          message: `unknown key '${key}'${suggestion(key, knownKeys(path))}`,
        }));
      case 'invalid_key':
        return [{ path, at: 'key', message: `invalid key '${String(path.at(-1))}': ${issue.issues[0]?.message ?? issue.message}` }];
      case 'invalid_union': {
        const branch = intendedBranch(issue.errors);
        return branch === undefined ? [{ path, message: issue.message }] : findingsFromIssues(branch, path);
      }
      default:
        return [{ path, message: issue.message }];
    }
  });
}

/**
 * The one branch whose type matched (its failures are about content), if exactly one did; among
 * mappings of several forms, the one form whose keys the value uses (its other keys are foreign to
 * every other form), so a bad value deep inside is named at its own path.
 */
function intendedBranch(branches: readonly (readonly z.core.$ZodIssue[])[]): readonly z.core.$ZodIssue[] | undefined {
  const typed = branches.filter((issues) => !issues.some(isOtherType));
  if (typed.length === 1) return typed[0];
  const keyed = typed.filter((issues) => !issues.some((issue) => issue.code === 'unrecognized_keys' && issue.path.length === 0));
  return keyed.length === 1 ? keyed[0] : undefined;
}

/** The value is not even of the branch's kind: a wrong type, or an enum of strings given a mapping. */
function isOtherType(issue: z.core.$ZodIssue): boolean {
  if (issue.path.length > 0) return false;
  if (issue.code === 'invalid_type') return true;
  return issue.code === 'invalid_value' && !issue.values.some((value) => typeof value === typeof issue.input);
}

function knownKeys(path: Path): readonly string[] {
  if (path.length === 0) return JOB_KEYS;
  if (path.length === 2 && path[0] === 'tasks') return TASK_KEYS;
  if (path.length === 3 && path[0] === 'tasks' && path[2] === 'backoff') return BACKOFF_KEYS;
  return [];
}

function article(expected: string): string {
  const words: Record<string, string> = {
    int: 'an integer',
    // Every number in a definition is an integer (z.int() reports non-numbers as expecting 'number').
    number: 'an integer',
    string: 'a string',
    boolean: 'true or false',
    array: 'a list',
    object: 'a mapping',
    record: 'a mapping',
  };
  return words[expected] ?? expected;
}

/** A short description of a value for a message: scalars as written, collections by kind. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

import type { ExprValue } from './ast.js';

export interface FunctionSpec {
  readonly min: number;
  readonly max: number;
  /** `fail` raises an evaluation error naming the function. */
  readonly call: (args: readonly ExprValue[], fail: (detail: string) => never) => ExprValue;
}

/** Functions whose arguments are evaluated only as needed (they short-circuit). */
export const SPECIAL_FORMS: ReadonlyMap<string, { min: number; max: number }> = new Map([
  ['if', { min: 3, max: 3 }],
  ['coalesce', { min: 1, max: 16 }],
]);

const numeric = (name: string, op: (value: number) => number): FunctionSpec => ({
  min: 1,
  max: 1,
  call: ([value], fail) => {
    if (value === null) return null;
    if (typeof value !== 'number') return fail(`${name} needs a number, got ${describe(value ?? null)}`);
    return op(value);
  },
});

const text = (name: string, op: (value: string) => ExprValue): FunctionSpec => ({
  min: 1,
  max: 1,
  call: ([value], fail) => {
    if (value === null) return null;
    if (typeof value !== 'string') return fail(`${name} needs a string, got ${describe(value ?? null)}`);
    return op(value);
  },
});

const textPair = (name: string, op: (value: string, other: string) => boolean): FunctionSpec => ({
  min: 2,
  max: 2,
  call: ([value, other], fail) => {
    if (value === null || other === null) return null;
    if (typeof value !== 'string' || typeof other !== 'string') return fail(`${name} needs two strings`);
    return op(value, other);
  },
});

const extreme = (name: string, pick: (a: number, b: number) => number): FunctionSpec => ({
  min: 1,
  max: 16,
  call: (args, fail) => {
    let best: number | null = null;
    for (const arg of args) {
      if (arg === null) continue;
      if (typeof arg !== 'number') return fail(`${name} needs numbers, got ${describe(arg)}`);
      best = best === null ? arg : pick(best, arg);
    }
    return best;
  },
});

/** The only functions an expression can call. A Map, so no inherited name can ever be looked up. */
export const FUNCTIONS: ReadonlyMap<string, FunctionSpec> = new Map<string, FunctionSpec>([
  [
    'len',
    {
      min: 1,
      max: 1,
      call: ([value], fail) => {
        if (value === null) return null;
        if (typeof value === 'string') return [...value].length;
        if (Array.isArray(value)) return value.length;
        return fail(`len needs a string or a list, got ${describe(value ?? null)}`);
      },
    },
  ],
  ['lower', text('lower', (value) => value.toLowerCase())],
  ['upper', text('upper', (value) => value.toUpperCase())],
  ['trim', text('trim', (value) => value.trim())],
  ['starts_with', textPair('starts_with', (value, prefix) => value.startsWith(prefix))],
  ['ends_with', textPair('ends_with', (value, suffix) => value.endsWith(suffix))],
  ['abs', numeric('abs', Math.abs)],
  ['floor', numeric('floor', Math.floor)],
  ['ceil', numeric('ceil', Math.ceil)],
  ['round', numeric('round', (value) => Math.round(value))],
  ['min', extreme('min', Math.min)],
  ['max', extreme('max', Math.max)],
  ['exists', { min: 1, max: 1, call: ([value]) => value !== null && value !== undefined }],
  [
    'contains',
    {
      min: 2,
      max: 2,
      call: ([container, item], fail) => {
        if (container === null) return false;
        if (Array.isArray(container)) return container.some((entry) => equal(entry, item ?? null));
        if (typeof container === 'string' && typeof item === 'string') return container.includes(item);
        return fail(`contains needs a list, or two strings, got ${describe(container ?? null)}`);
      },
    },
  ],
]);

export function describe(value: ExprValue): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return `a ${typeof value}`;
}

/** Structural equality over expression values. */
export function equal(a: ExprValue, b: ExprValue): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, index) => equal(item, b[index]!));
  }
  return a === b;
}

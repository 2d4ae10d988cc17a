import type { Condition, Scalar, SortKey } from './spec.js';

/** The query semantics, in memory: the reference the SQL stores are tested against. */
export function matches(values: Readonly<Record<string, unknown>>, conditions: readonly Condition[]): boolean {
  return conditions.every((condition) => {
    if (condition.op === 'or') return condition.branches.some((branch) => matches(values, branch));
    if (condition.op === 'not') return !matches(values, condition.conditions);
    const present = Object.hasOwn(values, condition.property);
    const value = present ? values[condition.property] : undefined;
    switch (condition.op) {
      case 'eq':
        return value === condition.value;
      case 'in':
        return condition.values.includes(value as Scalar);
      case 'exists':
        return present === condition.value;
      case 'contains':
        return Array.isArray(value) && value.includes(condition.value);
      default: {
        if (typeof value !== typeof condition.value) return false;
        const order = compareScalars(value as Scalar, condition.value);
        if (condition.op === 'gt') return order > 0;
        if (condition.op === 'gte') return order >= 0;
        if (condition.op === 'lt') return order < 0;
        return order <= 0;
      }
    }
  });
}

/**
 * Orders numbers numerically, booleans false first, strings by Unicode code point (what
 * SQLite's BINARY and PostgreSQL's "C" collation do with UTF-8), so every store sorts alike.
 */
export function compareScalars(a: Scalar, b: Scalar): number {
  if (typeof a === 'string' && typeof b === 'string') return compareCodePoints(a, b);
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i += 1) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i += 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** Sort keys first, values of the wrong kind or absent last in both directions, then id. */
export function compareBy(orderBy: readonly SortKey[]) {
  return (
    a: { id: string; values: Readonly<Record<string, unknown>> },
    b: { id: string; values: Readonly<Record<string, unknown>> },
  ): number => {
    for (const key of orderBy) {
      const x = a.values[key.property];
      const y = b.values[key.property];
      const xOk = typeof x === key.valueClass;
      const yOk = typeof y === key.valueClass;
      if (!xOk || !yOk) {
        if (xOk !== yOk) return xOk ? -1 : 1;
        continue;
      }
      const order = compareScalars(x as Scalar, y as Scalar);
      if (order !== 0) return key.direction === 'asc' ? order : -order;
    }
    return compareScalars(a.id, b.id);
  };
}

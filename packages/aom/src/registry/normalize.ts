import { AomValidationError } from '../errors.js';

/** Sets an own data property even for `__proto__`, which plain assignment would treat as the prototype. */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Copies caller input into plain JSON-shaped values: Date becomes an ISO string, -0 becomes 0,
 * undefined is dropped, and null is dropped on create or kept on a patch (where it removes).
 */
export function normalizeValues(input: unknown, entityType: string, entityId: string | null, keepNull = false): Record<string, unknown> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new AomValidationError([
      {
        entityType,
        entityId,
        property: '*',
        value: input ?? null,
        constraint: 'type',
        message: `${entityType}: values must be an object of property: value`,
      },
    ]);
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined || (value === null && !keepNull)) continue;
    setOwn(out, key, normalizeValue(value));
  }
  return out;
}

/** Deeper than any list a type can declare is left alone for the validator to refuse, without recursing further. */
const MAX_DEPTH = 64;

function normalizeValue(value: unknown, depth = 0): unknown {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? value : value.toISOString();
  if (Object.is(value, -0)) return 0;
  if (Array.isArray(value) && depth < MAX_DEPTH) return value.map((item) => normalizeValue(item, depth + 1));
  return value;
}

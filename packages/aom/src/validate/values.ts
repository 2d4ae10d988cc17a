import { type Cardinality, formatCardinality } from '../schema/cardinality.js';
import type { ValueSpec } from '../schema/definition.js';

/** Collects what a value check finds; references are checked later against the store. */
export interface CheckSink {
  issue(path: string, value: unknown, constraint: string, message: string): void;
  reference(path: string, id: string, to: string): void;
}

export type ValueCheck = (value: unknown, path: string, sink: CheckSink) => void;

const CALENDAR_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,3})?Z$/;

/** A real calendar date or UTC instant in ISO 8601 (`2024-02-30` is refused). */
export function isIsoDate(value: string): boolean {
  const match = CALENDAR_DATE.exec(value) ?? INSTANT.exec(value);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  const validDay = date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
  return validDay && (match.length < 5 || (Number(match[4]) < 24 && Number(match[5]) < 60 && Number(match[6]) < 60));
}

/**
 * Builds the check for one value spec once, so validating an entity runs closures with the
 * constraints already decoded (the pattern compiled, the enum turned into a Set).
 */
export function compileValueCheck(spec: ValueSpec, cardinality?: Cardinality): ValueCheck {
  if (spec.type === 'reference' && cardinality && cardinality.max > 1) {
    const single = compileValueCheck(spec);
    const { min, max } = cardinality;
    return (value, path, sink) => {
      if (!Array.isArray(value)) return sink.issue(path, value, 'type', `must be a list of ids of ${spec.to}`);
      if (value.length < min || value.length > max) {
        sink.issue(path, value, 'cardinality', `must hold ${formatCardinality(cardinality)} references, not ${value.length}`);
      }
      for (const [index, item] of value.entries()) single(item, `${path}[${index}]`, sink);
    };
  }
  switch (spec.type) {
    case 'string': {
      const pattern = spec.pattern === undefined ? undefined : new RegExp(spec.pattern, 'u');
      const { minLength, maxLength } = spec;
      return (value, path, sink) => {
        if (!isStorableString(value)) return sink.issue(path, value, 'type', stringMessage(value));
        // A string has at most as many code points as UTF-16 units and at least half as many, so counting is rarely needed.
        if (minLength !== undefined && value.length < 2 * minLength && codePoints(value) < minLength) {
          sink.issue(path, value, 'minLength', `must be at least ${minLength} characters long`);
        }
        if (maxLength !== undefined && value.length > maxLength && codePoints(value) > maxLength) {
          sink.issue(path, value, 'maxLength', `must be at most ${maxLength} characters long`);
        }
        if (pattern && !pattern.test(value)) sink.issue(path, value, 'pattern', `must match /${spec.pattern}/`);
      };
    }
    case 'integer':
    case 'float': {
      const integer = spec.type === 'integer';
      const { min, max } = spec;
      return (value, path, sink) => {
        if (typeof value !== 'number' || !Number.isFinite(value) || (integer && !Number.isSafeInteger(value))) {
          return sink.issue(path, value, 'type', integer ? 'must be an integer' : 'must be a finite number');
        }
        if (min !== undefined && value < min) sink.issue(path, value, 'min', `must be at least ${min}`);
        if (max !== undefined && value > max) sink.issue(path, value, 'max', `must be at most ${max}`);
      };
    }
    case 'boolean':
      return (value, path, sink) => {
        if (typeof value !== 'boolean') sink.issue(path, value, 'type', 'must be true or false');
      };
    case 'date': {
      const { min, max } = spec;
      return (value, path, sink) => {
        if (typeof value !== 'string' || !isIsoDate(value)) {
          return sink.issue(path, value, 'type', 'must be a date YYYY-MM-DD or a UTC instant YYYY-MM-DDTHH:MM:SS(.sss)Z');
        }
        if (min !== undefined && value < min) sink.issue(path, value, 'min', `must be on or after ${min}`);
        if (max !== undefined && value > max) sink.issue(path, value, 'max', `must be on or before ${max}`);
      };
    }
    case 'enum': {
      const allowed = new Set(spec.values);
      return (value, path, sink) => {
        if (typeof value !== 'string' || !allowed.has(value)) sink.issue(path, value, 'enum', `must be one of ${spec.values.join(', ')}`);
      };
    }
    case 'reference':
      return (value, path, sink) => {
        if (typeof value !== 'string' || value.length === 0 || !isStorableString(value)) {
          return sink.issue(path, value, 'type', `must be the id of a ${spec.to}`);
        }
        sink.reference(path, value, spec.to);
      };
    case 'list': {
      const item = compileValueCheck(spec.of);
      const { minItems, maxItems } = spec;
      return (value, path, sink) => {
        if (!Array.isArray(value)) return sink.issue(path, value, 'type', 'must be a list');
        if (minItems !== undefined && value.length < minItems) sink.issue(path, value, 'minItems', `must have at least ${minItems} items`);
        if (maxItems !== undefined && value.length > maxItems) sink.issue(path, value, 'maxItems', `must have at most ${maxItems} items`);
        for (const [index, entry] of value.entries()) item(entry, `${path}[${index}]`, sink);
      };
    }
  }
}

/**
 * Strings every store keeps byte for byte: PostgreSQL jsonb refuses U+0000 and unpaired
 * surrogates, so they are refused here for all stores alike.
 */
function isStorableString(value: unknown): value is string {
  return typeof value === 'string' && !UNSTORABLE.test(value);
}

const UNSTORABLE = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function stringMessage(value: unknown): string {
  return typeof value === 'string' ? 'must not contain U+0000 or unpaired surrogates' : 'must be a string';
}

function codePoints(value: string): number {
  let count = 0;
  for (const _ of value) count += 1;
  return count;
}

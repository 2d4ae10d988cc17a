import { AomQueryError } from '../errors.js';
import type { EntityType, PropertyType } from '../schema/entity-type.js';

export type Scalar = string | number | boolean;

/** A filter on one property: a value means equality, an object holds operators. */
export type WhereClause =
  | Scalar
  | {
      readonly eq?: Scalar;
      readonly in?: readonly Scalar[];
      readonly gt?: number | string;
      readonly gte?: number | string;
      readonly lt?: number | string;
      readonly lte?: number | string;
      readonly exists?: boolean;
      /** For lists and many-references: the list holds this item. */
      readonly contains?: Scalar;
    };

export interface OrderBy {
  readonly property: string;
  readonly direction?: 'asc' | 'desc';
}

/**
 * Property conditions, all of which must hold, plus `$or` (a list of `Where`, at least one of which
 * holds) and `$not` (a `Where` that must not hold). Property names cannot start with `$`.
 */
export interface Where {
  readonly [property: string]: WhereClause | readonly Where[] | Where | undefined;
  readonly $or?: readonly Where[];
  readonly $not?: Where;
}

export interface FindQuery {
  readonly where?: Where;
  /** `'year'`, `'-year'` (descending), `{ property, direction }`, or a list of them. */
  readonly orderBy?: string | OrderBy | readonly (string | OrderBy)[];
  /** At most this many results; `find` defaults to `DEFAULT_FIND_LIMIT`. */
  readonly limit?: number;
  /** `nextCursor` of a previous `findPage` with the same query: results after its last one. */
  readonly cursor?: string;
}

/** What `find` and `findPage` return at most when the query names no `limit`. */
export const DEFAULT_FIND_LIMIT = 1000;

export type ValueClass = 'number' | 'string' | 'boolean';
export type RangeOp = 'gt' | 'gte' | 'lt' | 'lte';

export type Condition =
  | { readonly property: string; readonly op: 'eq'; readonly value: Scalar }
  | { readonly property: string; readonly op: 'in'; readonly values: readonly Scalar[] }
  | { readonly property: string; readonly op: 'exists'; readonly value: boolean }
  | { readonly property: string; readonly op: 'contains'; readonly value: Scalar }
  | { readonly property: string; readonly op: RangeOp; readonly value: number | string; readonly valueClass: 'number' | 'string' }
  /** At least one branch holds; each branch is a list of conditions that all hold. */
  | { readonly op: 'or'; readonly branches: readonly (readonly Condition[])[] }
  /** Not all of these hold (an absent or wrong-typed value fails a condition, so `not` matches it). */
  | { readonly op: 'not'; readonly conditions: readonly Condition[] };

/** Every property a list of conditions reads, nested ones included. */
export function conditionProperties(conditions: readonly Condition[]): string[] {
  return conditions.flatMap((condition) =>
    condition.op === 'or'
      ? condition.branches.flatMap(conditionProperties)
      : condition.op === 'not'
        ? conditionProperties(condition.conditions)
        : [condition.property],
  );
}

export interface SortKey {
  readonly property: string;
  readonly direction: 'asc' | 'desc';
  readonly valueClass: ValueClass;
}

/** What a store is asked: already checked against the type, so stores trust it. */
export interface StoreQuery {
  /** The queried type and all its descendants. */
  readonly types: readonly string[];
  readonly conditions: readonly Condition[];
  readonly orderBy: readonly SortKey[];
  readonly limit: number | undefined;
  /** Only entities whose id sorts after this one (by code point); used with no `orderBy`. */
  readonly after?: string;
}

const OPERATORS = ['eq', 'in', 'gt', 'gte', 'lt', 'lte', 'exists', 'contains'];
const MAX_IN = 1000;
const MAX_OR = 100;
const MAX_DEPTH = 8;

/** An opaque page token: the last id returned, bound to the queried type. */
export function encodeCursor(type: string, after: string): string {
  return Buffer.from(JSON.stringify({ t: type, a: after }), 'utf8').toString('base64url');
}

function decodeCursor(cursor: unknown, type: string, fail: (path: string, detail: string) => never): string {
  if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > 4096)
    return fail('cursor', 'must be a nextCursor string from findPage');
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return fail('cursor', 'is not a cursor from findPage (it does not decode)');
  }
  const { t, a } = (decoded ?? {}) as { t?: unknown; a?: unknown };
  if (typeof t !== 'string' || typeof a !== 'string') return fail('cursor', 'is not a cursor from findPage');
  if (t !== type) return fail('cursor', `was made for a query on ${t}, not ${type}`);
  return a;
}

export function valueClassOf(property: PropertyType): ValueClass | undefined {
  switch (property.kind) {
    case 'integer':
    case 'float':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'list':
      return undefined;
    default:
      return property.many ? undefined : 'string';
  }
}

function itemClassOf(property: PropertyType): ValueClass | undefined {
  if (property.kind === 'reference' && property.many) return 'string';
  if (property.spec.type !== 'list') return undefined;
  const item = property.spec.of.type;
  if (item === 'integer' || item === 'float') return 'number';
  if (item === 'boolean') return 'boolean';
  return item === 'list' ? undefined : 'string';
}

/** Checks a `find` query against the type and turns it into conditions every store understands. */
export function compileQuery(type: EntityType, descendants: readonly string[], query: FindQuery = {}): StoreQuery {
  const fail = (path: string, detail: string): never => {
    throw new AomQueryError(type.name, path, detail);
  };
  if (typeof query !== 'object' || query === null) fail('(query)', 'must be an object');
  for (const key of Object.keys(query))
    if (!['where', 'orderBy', 'limit', 'cursor'].includes(key)) fail(key, 'unknown key (allowed: where, orderBy, limit, cursor)');
  const lookup = (name: string, path: string): PropertyType => {
    const property = type.properties.get(name);
    if (!property) return fail(path, `${type.name} has no property ${name}`);
    if (property.computed) return fail(path, `${name} is computed and not stored, so it cannot be queried`);
    return property;
  };
  const whereConditions = (where: unknown, base: string, depth: number): Condition[] => {
    if (typeof where !== 'object' || where === null || Array.isArray(where)) return fail(base, 'must be an object of property: condition');
    if (depth > MAX_DEPTH) return fail(base, `nests $or/$not deeper than ${MAX_DEPTH}`);
    const conditions: Condition[] = [];
    for (const [name, clause] of Object.entries(where)) {
      const path = `${base}.${name}`;
      if (name === '$or') {
        if (!Array.isArray(clause) || clause.length === 0 || clause.length > MAX_OR)
          fail(path, `must be a list of 1 to ${MAX_OR} where objects`);
        const branches = (clause as unknown[]).map((branch, index) => whereConditions(branch, `${path}[${index}]`, depth + 1));
        conditions.push({ op: 'or', branches });
        continue;
      }
      if (name === '$not') {
        conditions.push({ op: 'not', conditions: whereConditions(clause, path, depth + 1) });
        continue;
      }
      if (name.startsWith('$')) fail(path, 'unknown combinator (allowed: $or, $not)');
      conditions.push(...propertyConditions(name, clause, path));
    }
    return conditions;
  };
  const propertyConditions = (name: string, clause: unknown, path: string): Condition[] => {
    const conditions: Condition[] = [];
    const property = lookup(name, path);
    const valueClass = valueClassOf(property);
    const scalar = (value: unknown, at: string, wanted: ValueClass | undefined): Scalar => {
      if (wanted === undefined) return fail(at, `${name} is a list; use contains`);
      if (typeof value !== wanted) return fail(at, `must be a ${wanted} to compare with ${name}`);
      return value as Scalar;
    };
    if (typeof clause !== 'object' || clause === null) {
      conditions.push({ property: name, op: 'eq', value: scalar(clause, path, valueClass) });
      return conditions;
    }
    if (Array.isArray(clause)) fail(path, 'use { in: [...] } to match one of several values');
    for (const [op, operand] of Object.entries(clause)) {
      const at = `${path}.${op}`;
      if (!OPERATORS.includes(op)) fail(at, `unknown operator (allowed: ${OPERATORS.join(', ')})`);
      if (op === 'eq') conditions.push({ property: name, op, value: scalar(operand, at, valueClass) });
      else if (op === 'in') {
        if (!Array.isArray(operand) || operand.length === 0 || operand.length > MAX_IN) fail(at, `must be a list of 1 to ${MAX_IN} values`);
        conditions.push({
          property: name,
          op,
          values: (operand as unknown[]).map((value, index) => scalar(value, `${at}[${index}]`, valueClass)),
        });
      } else if (op === 'exists') {
        if (typeof operand !== 'boolean') fail(at, 'must be true or false');
        conditions.push({ property: name, op, value: operand as boolean });
      } else if (op === 'contains') {
        const itemClass = itemClassOf(property);
        if (itemClass === undefined) fail(at, `${name} is not a list`);
        conditions.push({ property: name, op, value: scalar(operand, at, itemClass) });
      } else {
        if (valueClass !== 'number' && valueClass !== 'string') fail(at, `${name} has no order; ranges need a number, string or date`);
        conditions.push({
          property: name,
          op: op as RangeOp,
          value: scalar(operand, at, valueClass) as number | string,
          valueClass: valueClass as 'number' | 'string',
        });
      }
    }
    return conditions;
  };
  const conditions = whereConditions(query.where ?? {}, 'where', 0);
  const orderBy = (query.orderBy === undefined ? [] : Array.isArray(query.orderBy) ? query.orderBy : [query.orderBy]).map(
    (entry, index) => {
      const path = `orderBy[${index}]`;
      const raw: OrderBy =
        typeof entry === 'string'
          ? entry.startsWith('-')
            ? { property: entry.slice(1), direction: 'desc' }
            : { property: entry }
          : (entry as OrderBy);
      if (typeof raw !== 'object' || raw === null || typeof raw.property !== 'string')
        fail(path, 'must be a property name or { property, direction }');
      const direction = raw.direction ?? 'asc';
      if (direction !== 'asc' && direction !== 'desc') fail(`${path}.direction`, 'must be asc or desc');
      const valueClass = valueClassOf(lookup(raw.property, path));
      if (valueClass === undefined) fail(path, `${raw.property} is a list and has no order`);
      return { property: raw.property, direction, valueClass: valueClass as ValueClass };
    },
  );
  if (query.limit !== undefined && (!Number.isSafeInteger(query.limit) || query.limit < 1)) fail('limit', 'must be a positive integer');
  if (query.cursor === undefined) return { types: [type.name, ...descendants], conditions, orderBy, limit: query.limit };
  // Pages follow id order, so a cursor is the last id; a sorted query would need its sort keys in the cursor.
  if (orderBy.length > 0) fail('cursor', 'pages are in id order; drop orderBy to page with a cursor');
  const after = decodeCursor(query.cursor, type.name, fail);
  return { types: [type.name, ...descendants], conditions, orderBy, limit: query.limit, after };
}

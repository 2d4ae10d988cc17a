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

export interface FindQuery {
  readonly where?: Readonly<Record<string, WhereClause>>;
  /** `'year'`, `'-year'` (descending), `{ property, direction }`, or a list of them. */
  readonly orderBy?: string | OrderBy | readonly (string | OrderBy)[];
  readonly limit?: number;
}

export type ValueClass = 'number' | 'string' | 'boolean';
export type RangeOp = 'gt' | 'gte' | 'lt' | 'lte';

export type Condition =
  | { readonly property: string; readonly op: 'eq'; readonly value: Scalar }
  | { readonly property: string; readonly op: 'in'; readonly values: readonly Scalar[] }
  | { readonly property: string; readonly op: 'exists'; readonly value: boolean }
  | { readonly property: string; readonly op: 'contains'; readonly value: Scalar }
  | { readonly property: string; readonly op: RangeOp; readonly value: number | string; readonly valueClass: 'number' | 'string' };

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
}

const OPERATORS = ['eq', 'in', 'gt', 'gte', 'lt', 'lte', 'exists', 'contains'];
const MAX_IN = 1000;

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
    if (!['where', 'orderBy', 'limit'].includes(key)) fail(key, 'unknown key (allowed: where, orderBy, limit)');
  const lookup = (name: string, path: string): PropertyType => {
    const property = type.properties.get(name);
    if (!property) return fail(path, `${type.name} has no property ${name}`);
    if (property.computed) return fail(path, `${name} is computed and not stored, so it cannot be queried`);
    return property;
  };
  const conditions: Condition[] = [];
  const where = query.where ?? {};
  if (typeof where !== 'object' || where === null || Array.isArray(where)) fail('where', 'must be an object of property: condition');
  for (const [name, clause] of Object.entries(where)) {
    const path = `where.${name}`;
    const property = lookup(name, path);
    const valueClass = valueClassOf(property);
    const scalar = (value: unknown, at: string, wanted: ValueClass | undefined): Scalar => {
      if (wanted === undefined) return fail(at, `${name} is a list; use contains`);
      if (typeof value !== wanted) return fail(at, `must be a ${wanted} to compare with ${name}`);
      return value as Scalar;
    };
    if (typeof clause !== 'object' || clause === null) {
      conditions.push({ property: name, op: 'eq', value: scalar(clause, path, valueClass) });
      continue;
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
  }
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
  return { types: [type.name, ...descendants], conditions, orderBy, limit: query.limit };
}

import { AomDefinitionError } from '../errors.js';
import { parseCardinality } from './cardinality.js';
import {
  type EntityTypeDef,
  type Json,
  type MigrationStep,
  NAME_PATTERN,
  type OperationDef,
  type PropertyDef,
  RESERVED_NAMES,
  type RuleDef,
  VALUE_KINDS,
  type ValueSpec,
} from './definition.js';

const MAX_PATTERN = 512;
const MAX_PROPERTIES = 512;
const MAX_LIST_NESTING = 16;
const DATE = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z)?$/;

type Fail = (path: string, detail: string) => never;

/**
 * Checks a type definition that arrived as untrusted JSON and returns a clean copy. Every
 * error names the field (`properties.year.min`); unknown keys are refused so typos surface.
 */
export function checkDefinition(raw: unknown): EntityTypeDef {
  const typeName = isRecord(raw) && typeof raw.name === 'string' ? raw.name : '';
  const fail: Fail = (path, detail) => {
    throw new AomDefinitionError(typeName, path, detail);
  };
  const def = record(raw, '', fail);
  allowKeys(def, ['name', 'extends', 'abstract', 'description', 'properties', 'rules', 'operations', 'migration'], '', fail);
  const out: Record<string, unknown> = { name: name(def.name, 'name', fail) };
  if (def.extends !== undefined) out.extends = name(def.extends, 'extends', fail);
  if (def.abstract !== undefined) out.abstract = bool(def.abstract, 'abstract', fail);
  if (def.description !== undefined) out.description = text(def.description, 'description', fail);
  if (def.properties !== undefined) {
    const props = record(def.properties, 'properties', fail);
    const names = Object.keys(props);
    if (names.length > MAX_PROPERTIES) fail('properties', `at most ${MAX_PROPERTIES} properties per type`);
    const checked: Record<string, PropertyDef> = {};
    for (const key of names) checked[name(key, `properties.${key}`, fail)] = property(props[key], `properties.${key}`, fail);
    out.properties = checked;
  }
  if (def.rules !== undefined) out.rules = list(def.rules, 'rules', fail).map((rule, index) => ruleDef(rule, `rules[${index}]`, fail));
  if (def.operations !== undefined) {
    const ops = record(def.operations, 'operations', fail);
    const checked: Record<string, OperationDef> = {};
    for (const key of Object.keys(ops)) checked[name(key, `operations.${key}`, fail)] = operation(ops[key], `operations.${key}`, fail);
    out.operations = checked;
  }
  if (def.migration !== undefined) {
    out.migration = list(def.migration, 'migration', fail).map((step, index) => migrationStep(step, `migration[${index}]`, fail));
  }
  const ruleNames = new Set<string>();
  for (const [index, rule] of ((out.rules as RuleDef[] | undefined) ?? []).entries()) {
    if (ruleNames.has(rule.name)) fail(`rules[${index}].name`, `duplicate rule name ${rule.name}`);
    ruleNames.add(rule.name);
  }
  return out as unknown as EntityTypeDef;
}

function property(raw: unknown, path: string, fail: Fail): PropertyDef {
  const def = record(raw, path, fail);
  const extra = ['description', 'required', 'default', 'computed', 'access', 'sensitive'];
  const spec = valueSpec(def, path, fail, extra) as unknown as Record<string, unknown>;
  if (def.description !== undefined) spec.description = text(def.description, `${path}.description`, fail);
  if (def.required !== undefined) spec.required = bool(def.required, `${path}.required`, fail);
  if (def.sensitive !== undefined) spec.sensitive = bool(def.sensitive, `${path}.sensitive`, fail);
  if (def.default !== undefined) spec.default = json(def.default, `${path}.default`, fail);
  if (def.computed !== undefined) {
    spec.computed = text(def.computed, `${path}.computed`, fail);
    if (def.default !== undefined || def.required !== undefined) fail(path, 'a computed property takes neither required nor default');
    if (spec.type === 'reference' || spec.type === 'list') fail(`${path}.type`, 'a computed property must be a scalar type');
  }
  if (def.access !== undefined) {
    const access = record(def.access, `${path}.access`, fail);
    allowKeys(access, ['read', 'write'], `${path}.access`, fail);
    const out: Record<string, string[]> = {};
    for (const key of ['read', 'write'] as const) {
      if (access[key] !== undefined) out[key] = roles(access[key], `${path}.access.${key}`, fail);
    }
    spec.access = out;
  }
  return spec as unknown as PropertyDef;
}

function valueSpec(def: Record<string, unknown>, path: string, fail: Fail, extraKeys: readonly string[], depth = 0): ValueSpec {
  if (depth > MAX_LIST_NESTING) fail(path, `lists nest deeper than ${MAX_LIST_NESTING} levels`);
  const kind = def.type;
  if (typeof kind !== 'string' || !(VALUE_KINDS as readonly string[]).includes(kind)) {
    fail(`${path}.type`, `must be one of ${VALUE_KINDS.join(', ')}, got ${JSON.stringify(kind ?? null)}`);
  }
  const keys = (more: string[]) => allowKeys(def, ['type', ...more, ...extraKeys], path, fail);
  switch (kind) {
    case 'string': {
      keys(['minLength', 'maxLength', 'pattern']);
      const out: Record<string, unknown> = { type: kind };
      bounds(def, out, 'minLength', 'maxLength', path, fail, count);
      if (def.pattern !== undefined) {
        const pattern = text(def.pattern, `${path}.pattern`, fail);
        if (pattern.length > MAX_PATTERN) fail(`${path}.pattern`, `at most ${MAX_PATTERN} characters`);
        try {
          new RegExp(pattern, 'u');
        } catch (error) {
          fail(`${path}.pattern`, `not a valid regular expression: ${(error as Error).message}`);
        }
        out.pattern = pattern;
      }
      return out as unknown as ValueSpec;
    }
    case 'integer':
    case 'float': {
      keys(['min', 'max']);
      const out: Record<string, unknown> = { type: kind };
      bounds(def, out, 'min', 'max', path, fail, (value, at) => finite(value, at, fail, kind === 'integer'));
      return out as unknown as ValueSpec;
    }
    case 'date': {
      keys(['min', 'max']);
      const out: Record<string, unknown> = { type: kind };
      bounds(def, out, 'min', 'max', path, fail, (value, at) => {
        if (typeof value !== 'string' || !DATE.test(value)) fail(at, 'must be a date YYYY-MM-DD or an instant YYYY-MM-DDTHH:MM:SSZ');
        return value;
      });
      return out as unknown as ValueSpec;
    }
    case 'enum': {
      keys(['values']);
      const values = list(def.values, `${path}.values`, fail).map((value, index) => text(value, `${path}.values[${index}]`, fail));
      if (values.length === 0) fail(`${path}.values`, 'needs at least one value');
      if (new Set(values).size !== values.length) fail(`${path}.values`, 'values must be distinct');
      return { type: kind, values };
    }
    case 'reference': {
      keys(['to', 'cardinality']);
      const out: Record<string, unknown> = { type: kind, to: name(def.to, `${path}.to`, fail) };
      if (def.cardinality !== undefined) {
        const cardinality = text(def.cardinality, `${path}.cardinality`, fail);
        if (!parseCardinality(cardinality))
          fail(`${path}.cardinality`, `${JSON.stringify(cardinality)} is not a multiplicity such as 0..1, 1, 0..* or 2..5`);
        out.cardinality = cardinality;
      }
      return out as unknown as ValueSpec;
    }
    case 'list': {
      keys(['of', 'minItems', 'maxItems']);
      const of = record(def.of, `${path}.of`, fail);
      const item = valueSpec(of, `${path}.of`, fail, [], depth + 1);
      if (item.type === 'reference' && item.cardinality !== undefined)
        fail(`${path}.of.cardinality`, 'use a reference with a cardinality instead of a list of them');
      const out: Record<string, unknown> = { type: kind, of: item };
      bounds(def, out, 'minItems', 'maxItems', path, fail, count);
      return out as unknown as ValueSpec;
    }
    default:
      keys([]);
      return { type: 'boolean' };
  }

  function count(value: unknown, at: string): number {
    if (!Number.isSafeInteger(value) || (value as number) < 0) fail(at, 'must be a non-negative integer');
    return value as number;
  }
}

function bounds(
  def: Record<string, unknown>,
  out: Record<string, unknown>,
  low: string,
  high: string,
  path: string,
  fail: Fail,
  check: (value: unknown, at: string) => number | string,
): void {
  if (def[low] !== undefined) out[low] = check(def[low], `${path}.${low}`);
  if (def[high] !== undefined) out[high] = check(def[high], `${path}.${high}`);
  if (out[low] !== undefined && out[high] !== undefined && (out[low] as number) > (out[high] as number)) {
    fail(`${path}.${low}`, `${low} is above ${high}`);
  }
}

function ruleDef(raw: unknown, path: string, fail: Fail): RuleDef {
  const def = record(raw, path, fail);
  allowKeys(def, ['name', 'expression', 'message'], path, fail);
  const out: Record<string, string> = {
    name: name(def.name, `${path}.name`, fail),
    expression: text(def.expression, `${path}.expression`, fail),
  };
  if (def.message !== undefined) out.message = text(def.message, `${path}.message`, fail);
  return out as unknown as RuleDef;
}

function operation(raw: unknown, path: string, fail: Fail): OperationDef {
  const def = record(raw, path, fail);
  allowKeys(def, ['strategy', 'expression', 'roles', 'description'], path, fail);
  if ((def.strategy === undefined) === (def.expression === undefined)) fail(path, 'give exactly one of strategy and expression');
  const out: Record<string, unknown> =
    def.strategy !== undefined
      ? { strategy: name(def.strategy, `${path}.strategy`, fail) }
      : { expression: text(def.expression, `${path}.expression`, fail) };
  if (def.roles !== undefined) out.roles = roles(def.roles, `${path}.roles`, fail);
  if (def.description !== undefined) out.description = text(def.description, `${path}.description`, fail);
  return out as unknown as OperationDef;
}

/** Checks migration steps that arrived on their own (an entity's change of type); errors name `migration[i].field`. */
export function checkMigration(raw: unknown, typeName: string): MigrationStep[] {
  const fail: Fail = (path, detail) => {
    throw new AomDefinitionError(typeName, path, detail);
  };
  return list(raw, 'migration', fail).map((step, index) => migrationStep(step, `migration[${index}]`, fail));
}

function migrationStep(raw: unknown, path: string, fail: Fail): MigrationStep {
  const def = record(raw, path, fail);
  switch (def.op) {
    case 'rename':
      allowKeys(def, ['op', 'from', 'to'], path, fail);
      return { op: 'rename', from: name(def.from, `${path}.from`, fail), to: name(def.to, `${path}.to`, fail) };
    case 'remove':
      allowKeys(def, ['op', 'property'], path, fail);
      return { op: 'remove', property: name(def.property, `${path}.property`, fail) };
    case 'set':
      allowKeys(def, ['op', 'property', 'expression'], path, fail);
      return {
        op: 'set',
        property: name(def.property, `${path}.property`, fail),
        expression: text(def.expression, `${path}.expression`, fail),
      };
    case 'strategy':
      allowKeys(def, ['op', 'name'], path, fail);
      return { op: 'strategy', name: name(def.name, `${path}.name`, fail) };
    default:
      return fail(`${path}.op`, `must be rename, remove, set or strategy, got ${JSON.stringify(def.op ?? null)}`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function record(value: unknown, path: string, fail: Fail): Record<string, unknown> {
  if (!isRecord(value)) fail(path || '(definition)', 'must be an object');
  return value;
}

function list(value: unknown, path: string, fail: Fail): unknown[] {
  if (!Array.isArray(value)) fail(path, 'must be an array');
  return value;
}

function allowKeys(value: Record<string, unknown>, allowed: readonly string[], path: string, fail: Fail): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) fail(path ? `${path}.${key}` : key, `unknown key (allowed: ${allowed.join(', ')})`);
  }
}

function name(value: unknown, path: string, fail: Fail): string {
  if (typeof value !== 'string' || !NAME_PATTERN.test(value))
    fail(path, 'must be a name of letters, digits and _ (not starting with a digit, at most 63)');
  if (RESERVED_NAMES.has(value)) fail(path, `${value} is reserved`);
  return value;
}

function text(value: unknown, path: string, fail: Fail): string {
  if (typeof value !== 'string') fail(path, 'must be a string');
  return value;
}

function bool(value: unknown, path: string, fail: Fail): boolean {
  if (typeof value !== 'boolean') fail(path, 'must be true or false');
  return value;
}

function finite(value: unknown, path: string, fail: Fail, integer: boolean): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || (integer && !Number.isSafeInteger(value))) {
    fail(path, integer ? 'must be a safe integer' : 'must be a finite number');
  }
  return value;
}

function roles(value: unknown, path: string, fail: Fail): string[] {
  return list(value, path, fail).map((role, index) => {
    if (typeof role !== 'string' || role.length === 0) fail(`${path}[${index}]`, 'must be a non-empty role name');
    return role;
  });
}

function json(value: unknown, path: string, fail: Fail, depth = 0): Json {
  if (depth > 32) fail(path, 'nests too deeply');
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return finite(value, path, fail, false);
  if (Array.isArray(value)) return value.map((item, index) => json(item, `${path}[${index}]`, fail, depth + 1));
  // No value type is an object, so a default never needs one (and `__proto__` keys never arrive).
  return fail(path, 'must be a string, number, boolean, null or a list of them');
}

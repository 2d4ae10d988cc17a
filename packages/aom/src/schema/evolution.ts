import { AomDefinitionError } from '../errors.js';
import { type CompiledExpression, compileExpression, ExpressionError } from '../expr/index.js';
import type { MigrationStep, ValueSpec } from './definition.js';
import type { EntityType } from './entity-type.js';

export type Values = Record<string, unknown>;
/** A migration step written in code: takes the values of the old version, returns the new ones. */
export type MigrationFunction = (values: Readonly<Values>, context: { readonly type: string; readonly fromVersion: number }) => Values;

/**
 * Changes from `previous` to `next` that old entities cannot absorb without a migration:
 * a property removed or retyped, a new required property without a default, an optional one made
 * required without a default, a constraint tightened, or a rule added or changed. Any of these
 * can make a stored entity invalid under the new version.
 */
export function breakingChanges(previous: EntityType, next: EntityType): string[] {
  const changes: string[] = [];
  for (const [name, before] of previous.properties) {
    if (before.computed) continue;
    const after = next.properties.get(name);
    if (!after || after.computed) changes.push(`property ${name} was removed`);
    else if (!sameShape(before.spec, after.spec) || before.many !== after.many)
      changes.push(`property ${name} changed from ${shape(before.spec)} to ${shape(after.spec)}`);
    else {
      if (!before.required && after.required && after.default === undefined)
        changes.push(`property ${name} became required but has no default`);
      changes.push(...tightened(name, before.spec, after.spec));
      const [was, now] = [before.cardinality, after.cardinality];
      if (was && now && (now.min > was.min || now.max < was.max))
        changes.push(`property ${name} cardinality narrowed from ${cardinality(was)} to ${cardinality(now)}`);
    }
  }
  for (const [name, after] of next.properties) {
    if (!previous.properties.has(name) && !after.computed && after.required && after.default === undefined) {
      changes.push(`property ${name} is new and required but has no default`);
    }
  }
  const rulesBefore = new Map(previous.rules.map((rule) => [rule.name, rule.expression.source]));
  for (const rule of next.rules) {
    const source = rulesBefore.get(rule.name);
    if (source === undefined) changes.push(`rule ${rule.name} is new`);
    else if (source !== rule.expression.source) changes.push(`rule ${rule.name} changed`);
  }
  return changes;
}

const cardinality = ({ min, max }: { min: number; max: number }) => `${min}..${max === Number.POSITIVE_INFINITY ? '*' : max}`;

/** Bounds of one value spec that a value valid before may now break (the shapes are already known to match). */
function tightened(name: string, before: ValueSpec, after: ValueSpec): string[] {
  const changes: string[] = [];
  const bound = (key: string, was: number | string | undefined, now: number | string | undefined, lower: boolean) => {
    if (now === undefined || was === now) return;
    if (was === undefined || (lower ? now > was : now < was)) changes.push(`property ${name} ${key} tightened to ${now}`);
  };
  const spec = (value: ValueSpec) =>
    value as Partial<Record<'min' | 'max' | 'minLength' | 'maxLength' | 'minItems' | 'maxItems', number | string>>;
  for (const key of ['min', 'minLength', 'minItems'] as const) bound(key, spec(before)[key], spec(after)[key], true);
  for (const key of ['max', 'maxLength', 'maxItems'] as const) bound(key, spec(before)[key], spec(after)[key], false);
  if (before.type === 'string' && after.type === 'string' && after.pattern !== undefined && after.pattern !== before.pattern)
    changes.push(`property ${name} pattern changed to ${after.pattern}`);
  if (before.type === 'list' && after.type === 'list') changes.push(...tightened(`${name}[]`, before.of, after.of));
  return changes;
}

function sameShape(a: ValueSpec, b: ValueSpec): boolean {
  if (a.type !== b.type) return false;
  if (a.type === 'enum' && b.type === 'enum') return a.values.every((value) => b.values.includes(value));
  if (a.type === 'reference' && b.type === 'reference') return a.to === b.to;
  if (a.type === 'list' && b.type === 'list') return sameShape(a.of, b.of);
  return true;
}

function shape(spec: ValueSpec): string {
  if (spec.type === 'enum') return `enum(${spec.values.join('|')})`;
  if (spec.type === 'reference') return `reference(${spec.to})`;
  if (spec.type === 'list') return `list(${shape(spec.of)})`;
  return spec.type;
}

/** A migration compiled once per type version: expressions parsed, strategies looked up. */
export type CompiledMigration = (values: Readonly<Values>) => Values;

export function compileMigration(
  steps: readonly MigrationStep[],
  previous: EntityType,
  next: EntityType,
  strategies: ReadonlyMap<string, MigrationFunction>,
): CompiledMigration {
  const fail = (index: number, field: string, detail: string): never => {
    throw new AomDefinitionError(next.name, `migration[${index}].${field}`, detail);
  };
  const scope = new Set([...previous.storedNames, ...next.storedNames]);
  for (const step of steps) if (step.op === 'rename') scope.add(step.to);
  const compileStep = (step: MigrationStep, index: number): ((values: Values) => void) => {
    switch (step.op) {
      case 'rename':
        return (values) => {
          if (!Object.hasOwn(values, step.from)) return;
          values[step.to] = values[step.from];
          delete values[step.from];
        };
      case 'remove':
        return (values) => {
          delete values[step.property];
        };
      case 'set': {
        let expression: CompiledExpression;
        try {
          expression = compileExpression(step.expression, scope);
        } catch (error) {
          if (error instanceof ExpressionError) return fail(index, 'expression', error.message);
          throw error;
        }
        return (values) => {
          const value = expression.evaluate(values);
          if (value === null) delete values[step.property];
          else values[step.property] = value;
        };
      }
      case 'strategy': {
        if (!strategies.has(step.name)) return fail(index, 'name', `no migration strategy named ${step.name} is registered`);
        return (values) => {
          // Looked up on every run, so a strategy registered again with { replace: true } takes effect at once.
          const fn = strategies.get(step.name);
          if (!fn) return fail(index, 'name', `no migration strategy named ${step.name} is registered`);
          const result = fn(structuredClone(values), { type: next.name, fromVersion: previous.version });
          if (typeof result !== 'object' || result === null || Array.isArray(result)) {
            return fail(index, 'name', `migration strategy ${step.name} must return an object of values`);
          }
          for (const key of Object.keys(values)) delete values[key];
          // defineProperty, not assignment: a `__proto__` key in the result stays a plain key.
          for (const [key, value] of Object.entries(result)) {
            Object.defineProperty(values, key, { value, enumerable: true, writable: true, configurable: true });
          }
        };
      }
    }
  };
  const compiled = steps.map(compileStep);
  return (input) => {
    const values: Values = structuredClone(input) as Values;
    for (const step of compiled) step(values);
    for (const property of next.properties.values()) {
      if (property.default !== undefined && !property.computed && !Object.hasOwn(values, property.name))
        values[property.name] = structuredClone(property.default);
    }
    return values;
  };
}

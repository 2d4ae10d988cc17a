import { AomDefinitionError } from '../errors.js';
import { type CompiledExpression, compileExpression, ExpressionError } from '../expr/index.js';
import type { MigrationStep, ValueSpec } from './definition.js';
import type { EntityType } from './entity-type.js';

export type Values = Record<string, unknown>;
/** A migration step written in code: takes the values of the old version, returns the new ones. */
export type MigrationFunction = (values: Readonly<Values>, context: { readonly type: string; readonly fromVersion: number }) => Values;

/**
 * Changes from `previous` to `next` that old entities cannot absorb without a migration:
 * a property removed or retyped, or a new required property without a default.
 */
export function breakingChanges(previous: EntityType, next: EntityType): string[] {
  const changes: string[] = [];
  for (const [name, before] of previous.properties) {
    if (before.computed) continue;
    const after = next.properties.get(name);
    if (!after || after.computed) changes.push(`property ${name} was removed`);
    else if (!sameShape(before.spec, after.spec) || before.many !== after.many)
      changes.push(`property ${name} changed from ${shape(before.spec)} to ${shape(after.spec)}`);
  }
  for (const [name, after] of next.properties) {
    if (!previous.properties.has(name) && !after.computed && after.required && after.default === undefined) {
      changes.push(`property ${name} is new and required but has no default`);
    }
  }
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

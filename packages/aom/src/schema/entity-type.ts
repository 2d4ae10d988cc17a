import { AomDefinitionError } from '../errors.js';
import { type CompiledExpression, compileExpression, ExpressionError } from '../expr/index.js';
import { compileValidator, type Validator } from '../validate/validator.js';
import { compileValueCheck } from '../validate/values.js';
import { type Cardinality, parseCardinality } from './cardinality.js';
import type { EntityTypeDef, Json, OperationDef, PropertyDef, TypeVersionRecord, ValueKind } from './definition.js';

/** Metadata of one property: the `PropertyType` corner of the type square. */
export class PropertyType {
  readonly kind: ValueKind;
  readonly required: boolean;
  /** For references: how many targets; `many` references hold a list of ids. */
  readonly cardinality: Cardinality | undefined;
  readonly many: boolean;
  readonly readRoles: readonly string[];
  readonly writeRoles: readonly string[];
  readonly sensitive: boolean;
  readonly default: Json | undefined;
  constructor(
    readonly name: string,
    readonly spec: PropertyDef,
    /** The type that declared it (differs from the owner for inherited properties). */
    readonly declaredBy: string,
    readonly computed: CompiledExpression | undefined,
  ) {
    this.kind = spec.type;
    this.cardinality = spec.type === 'reference' ? parseCardinality(spec.cardinality ?? '0..1') : undefined;
    this.many = (this.cardinality?.max ?? 1) > 1;
    this.required = spec.required === true || (this.cardinality?.min ?? 0) > 0;
    this.readRoles = spec.access?.read ?? [];
    this.writeRoles = spec.access?.write ?? [];
    this.sensitive = spec.sensitive === true;
    this.default = spec.default;
  }
}

export interface Rule {
  readonly name: string;
  readonly message: string | undefined;
  readonly expression: CompiledExpression;
  readonly declaredBy: string;
}

export interface Operation {
  readonly name: string;
  readonly def: OperationDef;
  readonly expression: CompiledExpression | undefined;
  readonly declaredBy: string;
}

/**
 * One version of a type, resolved against its parent: the `EntityType` corner of the type square.
 * Immutable; a change to the type makes a new instance, so everything cached on an instance (its
 * compiled validator) is invalidated simply by the instance being replaced.
 */
export class EntityType {
  readonly name: string;
  readonly version: number;
  readonly def: EntityTypeDef;
  readonly abstract: boolean;
  /** Own and inherited properties, parent's first. */
  readonly properties: ReadonlyMap<string, PropertyType>;
  /** Properties that are stored (not computed). */
  readonly storedNames: ReadonlySet<string>;
  readonly rules: readonly Rule[];
  readonly operations: ReadonlyMap<string, Operation>;
  #validator: Validator | undefined;

  constructor(
    readonly record: TypeVersionRecord,
    readonly parent: EntityType | undefined,
  ) {
    this.name = record.name;
    this.version = record.version;
    this.def = record.def;
    this.abstract = record.def.abstract === true;
    const fail = (path: string, detail: string): never => {
      throw new AomDefinitionError(this.name, path, detail);
    };
    const own = Object.entries(record.def.properties ?? {});
    const properties = new Map(parent?.properties);
    for (const [name] of own) {
      const inherited = properties.get(name);
      if (inherited) fail(`properties.${name}`, `already declared by the parent type ${inherited.declaredBy}`);
    }
    const stored = new Set([
      ...(parent?.storedNames ?? []),
      ...own.filter(([, spec]) => spec.computed === undefined).map(([name]) => name),
    ]);
    this.storedNames = stored;
    const compile = (source: string, path: string): CompiledExpression => {
      try {
        return compileExpression(source, stored);
      } catch (error) {
        if (error instanceof ExpressionError) return fail(path, error.message);
        throw error;
      }
    };
    for (const [name, spec] of own) {
      const computed = spec.computed === undefined ? undefined : compile(spec.computed, `properties.${name}.computed`);
      const property = new PropertyType(name, spec, this.name, computed);
      if (property.default !== undefined) {
        compileValueCheck(spec, property.cardinality)(property.default, name, {
          issue: (_path, _value, constraint, message) =>
            fail(`properties.${name}.default`, `breaks its own ${constraint} constraint: ${message}`),
          reference: () => undefined,
        });
      }
      properties.set(name, property);
    }
    this.properties = properties;
    this.rules = [
      ...(parent?.rules ?? []),
      ...(record.def.rules ?? []).map((rule, index) => ({
        name: rule.name,
        message: rule.message,
        expression: compile(rule.expression, `rules[${index}].expression`),
        declaredBy: this.name,
      })),
    ];
    const operations = new Map(parent?.operations);
    for (const [name, op] of Object.entries(record.def.operations ?? {})) {
      const expression = 'expression' in op ? compile(op.expression, `operations.${name}.expression`) : undefined;
      operations.set(name, { name, def: op, expression, declaredBy: this.name });
    }
    this.operations = operations;
  }

  /** This type's name and its ancestors', nearest first. */
  get lineage(): string[] {
    return [this.name, ...(this.parent?.lineage ?? [])];
  }

  isA(name: string): boolean {
    return this.name === name || (this.parent?.isA(name) ?? false);
  }

  property(name: string): PropertyType | undefined {
    return this.properties.get(name);
  }

  /** The compiled validator, built on first use and kept for the life of this version. */
  get validator(): Validator {
    this.#validator ??= compileValidator(this);
    return this.#validator;
  }
}

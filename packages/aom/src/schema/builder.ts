import { checkDefinition } from './check-definition.js';
import type {
  AccessDef,
  DateSpec,
  EntityTypeDef,
  FloatSpec,
  IntegerSpec,
  Json,
  ListSpec,
  MigrationStep,
  OperationDef,
  PropertyDef,
  RuleDef,
  StringSpec,
  ValueSpec,
} from './definition.js';

/** What every property accepts besides its value constraints. */
export interface PropertyOptions {
  readonly description?: string;
  readonly required?: boolean;
  readonly default?: Json;
  readonly access?: AccessDef;
  readonly sensitive?: boolean;
}

type Without<T> = Omit<T, 'type'> & PropertyOptions;

/**
 * A fluent way to write the same plain-JSON definition `defineType` takes:
 * `entityType('Car').extends('Vehicle').string('maker', { required: true }).build()`.
 * `build()` runs the same checks as a JSON definition gets.
 */
export class TypeBuilder {
  readonly #name: string;
  #extends: string | undefined;
  #abstract = false;
  #description: string | undefined;
  readonly #properties: Record<string, PropertyDef> = {};
  readonly #rules: RuleDef[] = [];
  readonly #operations: Record<string, OperationDef> = {};
  readonly #migration: MigrationStep[] = [];

  constructor(name: string) {
    this.#name = name;
  }

  extends(parent: string): this {
    this.#extends = parent;
    return this;
  }
  abstract(): this {
    this.#abstract = true;
    return this;
  }
  describe(text: string): this {
    this.#description = text;
    return this;
  }
  property(name: string, def: PropertyDef): this {
    Object.defineProperty(this.#properties, name, { value: def, enumerable: true, configurable: true, writable: true });
    return this;
  }
  string(name: string, options: Without<StringSpec> = {}): this {
    return this.property(name, { ...options, type: 'string' });
  }
  integer(name: string, options: Without<IntegerSpec> = {}): this {
    return this.property(name, { ...options, type: 'integer' });
  }
  float(name: string, options: Without<FloatSpec> = {}): this {
    return this.property(name, { ...options, type: 'float' });
  }
  boolean(name: string, options: PropertyOptions = {}): this {
    return this.property(name, { ...options, type: 'boolean' });
  }
  date(name: string, options: Without<DateSpec> = {}): this {
    return this.property(name, { ...options, type: 'date' });
  }
  enum(name: string, values: readonly string[], options: PropertyOptions = {}): this {
    return this.property(name, { ...options, type: 'enum', values });
  }
  /** A typed link to another entity; `cardinality` as in UML (`0..1` by default, `0..*` for many). */
  reference(name: string, to: string, options: PropertyOptions & { cardinality?: string } = {}): this {
    return this.property(name, { ...options, type: 'reference', to });
  }
  list(name: string, of: ValueSpec, options: Omit<Without<ListSpec>, 'of'> = {}): this {
    return this.property(name, { ...options, type: 'list', of });
  }
  computed(
    name: string,
    type: 'string' | 'integer' | 'float' | 'boolean' | 'date',
    expression: string,
    options: { access?: AccessDef } = {},
  ): this {
    return this.property(name, { ...options, type, computed: expression } as PropertyDef);
  }
  rule(name: string, expression: string, message?: string): this {
    this.#rules.push(message === undefined ? { name, expression } : { name, expression, message });
    return this;
  }
  /** Binds an operation to a strategy registered in code under `strategy`. */
  strategy(name: string, strategy: string, roles?: readonly string[]): this {
    this.#operations[name] = roles ? { strategy, roles } : { strategy };
    return this;
  }
  /** An operation computed from the properties by an expression. */
  operation(name: string, expression: string, roles?: readonly string[]): this {
    this.#operations[name] = roles ? { expression, roles } : { expression };
    return this;
  }
  migrate(...steps: MigrationStep[]): this {
    this.#migration.push(...steps);
    return this;
  }

  build(): EntityTypeDef {
    const def: Record<string, unknown> = { name: this.#name, properties: { ...this.#properties } };
    if (this.#extends !== undefined) def.extends = this.#extends;
    if (this.#abstract) def.abstract = true;
    if (this.#description !== undefined) def.description = this.#description;
    if (this.#rules.length > 0) def.rules = [...this.#rules];
    if (Object.keys(this.#operations).length > 0) def.operations = { ...this.#operations };
    if (this.#migration.length > 0) def.migration = [...this.#migration];
    return checkDefinition(def);
  }
}

export function entityType(name: string): TypeBuilder {
  return new TypeBuilder(name);
}

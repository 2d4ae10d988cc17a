/** JSON values, as stored. */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };

export const VALUE_KINDS = ['string', 'integer', 'float', 'boolean', 'date', 'enum', 'reference', 'list'] as const;
export type ValueKind = (typeof VALUE_KINDS)[number];

export interface StringSpec {
  readonly type: 'string';
  readonly minLength?: number;
  readonly maxLength?: number;
  /** A regular expression (Unicode mode) the whole value must match somewhere; anchor it yourself. */
  readonly pattern?: string;
}
export interface IntegerSpec {
  readonly type: 'integer';
  readonly min?: number;
  readonly max?: number;
}
export interface FloatSpec {
  readonly type: 'float';
  readonly min?: number;
  readonly max?: number;
}
export interface BooleanSpec {
  readonly type: 'boolean';
}
/** A calendar date `YYYY-MM-DD` or a UTC instant `YYYY-MM-DDTHH:MM:SS(.sss)Z`; bounds in the same form. */
export interface DateSpec {
  readonly type: 'date';
  readonly min?: string;
  readonly max?: string;
}
export interface EnumSpec {
  readonly type: 'enum';
  readonly values: readonly string[];
}
/**
 * A typed reference to another entity (Fowler's accountability: a typed link with a cardinality).
 * `cardinality` is `0..1` (default), `1`, `0..*`, `1..*`, `n`, `n..m` or `n..*`; when it allows more
 * than one, the value is a list of ids.
 */
export interface ReferenceSpec {
  readonly type: 'reference';
  readonly to: string;
  readonly cardinality?: string;
}
export interface ListSpec {
  readonly type: 'list';
  readonly of: ValueSpec;
  readonly minItems?: number;
  readonly maxItems?: number;
}
export type ValueSpec = StringSpec | IntegerSpec | FloatSpec | BooleanSpec | DateSpec | EnumSpec | ReferenceSpec | ListSpec;

export interface AccessDef {
  /** Roles that may read the property; absent or empty means everyone. */
  readonly read?: readonly string[];
  /** Roles that may write the property; absent or empty means everyone. */
  readonly write?: readonly string[];
}

export type PropertyDef = ValueSpec & {
  readonly description?: string;
  readonly required?: boolean;
  /** Applied on create when the value is absent, and to old entities when a migration adds the property. */
  readonly default?: Json;
  /** An expression over the stored properties; the property is then derived on read and never stored. */
  readonly computed?: string;
  readonly access?: AccessDef;
  /** Reads are recorded in the entity's AuditFacet; the property is left out of `values`. */
  readonly sensitive?: boolean;
};

export interface RuleDef {
  readonly name: string;
  /** Must evaluate to something other than false or null for the entity to be valid. */
  readonly expression: string;
  readonly message?: string;
}

/** An operation bound by name: a strategy registered in code, or an expression over the properties. */
export type OperationDef =
  | { readonly strategy: string; readonly roles?: readonly string[]; readonly description?: string }
  | { readonly expression: string; readonly roles?: readonly string[]; readonly description?: string };

/** One step that turns an entity of the previous version into one of the new version. */
export type MigrationStep =
  | { readonly op: 'rename'; readonly from: string; readonly to: string }
  | { readonly op: 'remove'; readonly property: string }
  /** Sets a property from an expression over the values as they are at this step (null removes it). */
  | { readonly op: 'set'; readonly property: string; readonly expression: string }
  /** Runs a transform registered in code with `registry.migrations.register(name, fn)`. */
  | { readonly op: 'strategy'; readonly name: string };

/** A type as plain JSON: what `defineType` takes and what the store keeps. */
export interface EntityTypeDef {
  readonly name: string;
  readonly extends?: string;
  readonly abstract?: boolean;
  readonly description?: string;
  readonly properties?: Readonly<Record<string, PropertyDef>>;
  readonly rules?: readonly RuleDef[];
  readonly operations?: Readonly<Record<string, OperationDef>>;
  /** Required when the change from the current version is not additive. */
  readonly migration?: readonly MigrationStep[];
}

/** One stored version of a type. */
export interface TypeVersionRecord {
  readonly name: string;
  readonly version: number;
  /** The definition without its `migration`. */
  readonly def: EntityTypeDef;
  /** The parent's version this version was resolved against. */
  readonly parentVersion: number | null;
  /** Steps from `version - 1` to this version; empty for additive changes. */
  readonly migration: readonly MigrationStep[];
  readonly definedAt: string;
}

export const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
/** Names that would alias JavaScript object machinery if they ever became keys. */
export const RESERVED_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

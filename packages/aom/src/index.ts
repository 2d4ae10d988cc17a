export { ANONYMOUS, allowed, type Principal, SYSTEM } from './access/principal.js';
export { auditTypeExplosion, type NearDuplicate, type TypeExplosionReport } from './audit/type-explosion.js';
export {
  AomAccessError,
  AomConflictError,
  AomDefinitionError,
  AomError,
  type AomIssue,
  AomNotFoundError,
  AomQueryError,
  AomValidationError,
} from './errors.js';
export {
  type CompiledExpression,
  compileExpression,
  ExpressionError,
  type ExprNode,
  type ExprValue,
  LIMITS,
  parse,
  tokenize,
} from './expr/index.js';
export {
  type Condition,
  compileQuery,
  DEFAULT_FIND_LIMIT,
  type FindQuery,
  type OrderBy,
  type Scalar,
  type StoreQuery,
  type Where,
  type WhereClause,
} from './query/spec.js';
export { Entity, type Property, type SensitiveRead } from './registry/entity.js';
export { AomRegistry, type AomRegistryOptions, type WriteOptions } from './registry/registry.js';
export { NamedTable, type OperationContext, type Strategy } from './registry/strategies.js';
export { entityType, type PropertyOptions, TypeBuilder } from './schema/builder.js';
export { type Cardinality, formatCardinality, parseCardinality } from './schema/cardinality.js';
export { checkDefinition } from './schema/check-definition.js';
export type {
  AccessDef,
  EntityTypeDef,
  Json,
  MigrationStep,
  OperationDef,
  PropertyDef,
  RuleDef,
  TypeVersionRecord,
  ValueKind,
  ValueSpec,
} from './schema/definition.js';
export { EntityType, type Operation, PropertyType, type Rule } from './schema/entity-type.js';
export type { MigrationFunction } from './schema/evolution.js';
export { MemoryAomStore } from './store/memory.js';
export type { AomStore, EntityRecord, HistoryEntry } from './store/store.js';
export type { ValidationResult, Validator } from './validate/validator.js';

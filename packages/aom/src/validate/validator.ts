import type { AomIssue } from '../errors.js';
import { ExpressionError } from '../expr/index.js';
import type { EntityType } from '../schema/entity-type.js';
import { type CheckSink, compileValueCheck, type ValueCheck } from './values.js';

export interface ReferenceToCheck {
  readonly property: string;
  readonly id: string;
  readonly to: string;
}

export interface ValidationResult {
  readonly issues: AomIssue[];
  /** References that passed the shape check and still need to be found in the store. */
  readonly references: ReferenceToCheck[];
}

export type Validator = (values: Readonly<Record<string, unknown>>, entityId: string | null) => ValidationResult;

/** Gathers one validation's findings; a class so a validation allocates one object, not a set of closures. */
class Collector implements CheckSink {
  readonly issues: AomIssue[] = [];
  readonly references: ReferenceToCheck[] = [];
  failed: Set<string> | undefined;
  constructor(
    private readonly entityType: string,
    private readonly entityId: string | null,
  ) {}

  issue(property: string, value: unknown, constraint: string, message: string): void {
    this.failed ??= new Set();
    this.failed.add(property.replace(/\[.*$/, ''));
    this.issues.push({
      entityType: this.entityType,
      entityId: this.entityId,
      property,
      value,
      constraint,
      message: `${this.entityType}.${property} ${message}`,
    });
  }

  reference(property: string, id: string, to: string): void {
    this.references.push({ property, id, to });
  }
}

/**
 * Compiles a type into one closure: a check per property built once, rules already compiled.
 * Every problem is collected; rules whose inputs already failed their own checks are skipped
 * so one bad value is reported once, not again by each rule that reads it.
 */
export function compileValidator(type: EntityType): Validator {
  const checks: { name: string; required: boolean; check: ValueCheck }[] = [];
  const computed = new Set<string>();
  for (const property of type.properties.values()) {
    if (property.computed) computed.add(property.name);
    else checks.push({ name: property.name, required: property.required, check: compileValueCheck(property.spec, property.cardinality) });
  }
  const known = new Set(type.properties.keys());
  const rules = type.rules.map((rule) => ({ ...rule, reads: [...rule.expression.identifiers] }));
  const entityType = type.name;

  return (values, entityId) => {
    const sink = new Collector(entityType, entityId);
    for (const key of Object.keys(values)) {
      if (!known.has(key)) sink.issue(key, values[key], 'unknown', `is not a property of ${entityType}`);
      else if (computed.has(key)) sink.issue(key, values[key], 'computed', 'is computed and cannot be written');
    }
    for (const { name, required, check } of checks) {
      const value = Object.hasOwn(values, name) ? values[name] : undefined;
      if (value === undefined || value === null) {
        if (required) sink.issue(name, null, 'required', 'is required');
        continue;
      }
      check(value, name, sink);
    }
    for (const rule of rules) {
      const failed = sink.failed;
      if (failed && rule.reads.some((name) => failed.has(name))) continue;
      let passed: boolean;
      let detail: string | undefined;
      try {
        passed = rule.expression.test(values);
      } catch (error) {
        if (!(error instanceof ExpressionError)) throw error;
        passed = false;
        detail = error.detail;
      }
      if (!passed) {
        const value = Object.fromEntries(rule.reads.map((name) => [name, values[name] ?? null]));
        const message = detail
          ? `rule ${rule.name} could not be evaluated: ${detail}`
          : (rule.message ?? `rule ${rule.name} is broken: ${rule.expression.source}`);
        sink.issues.push({
          entityType,
          entityId,
          property: '*',
          value,
          constraint: `rule:${rule.name}`,
          message: `${entityType}: ${message}`,
        });
      }
    }
    return { issues: sink.issues, references: sink.references };
  };
}

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

/**
 * Compiles a type into one closure: a check per property built once, rules already parsed.
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
  const rules = type.rules;
  const entityType = type.name;

  return (values, entityId) => {
    const issues: AomIssue[] = [];
    const references: ReferenceToCheck[] = [];
    const failed = new Set<string>();
    const sink: CheckSink = {
      issue: (property, value, constraint, message) => {
        failed.add(property.replace(/\[.*$/, ''));
        issues.push({ entityType, entityId, property, value, constraint, message: `${entityType}.${property} ${message}` });
      },
      reference: (property, id, to) => references.push({ property, id, to }),
    };
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
      if ([...rule.expression.identifiers].some((name) => failed.has(name))) continue;
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
        const value = Object.fromEntries([...rule.expression.identifiers].map((name) => [name, values[name] ?? null]));
        const message = detail
          ? `rule ${rule.name} could not be evaluated: ${detail}`
          : (rule.message ?? `rule ${rule.name} is broken: ${rule.expression.source}`);
        issues.push({ entityType, entityId, property: '*', value, constraint: `rule:${rule.name}`, message: `${entityType}: ${message}` });
      }
    }
    return { issues, references };
  };
}

import { createHash } from 'node:crypto';
import { NAME_PATTERN } from '../schema/definition.js';

/**
 * Property names are spliced into SQL so that expression indexes match the queries that use
 * them; they are re-checked here against the definition grammar, which has no quote or space.
 */
export function sqlName(name: string): string {
  if (!NAME_PATTERN.test(name)) throw new Error(`refusing to put ${JSON.stringify(name)} into SQL: not a property name`);
  return name;
}

/** A stable index name under PostgreSQL's 63-byte limit. */
export function indexName(prefix: string, property: string, valueClass: string): string {
  const hash = createHash('sha256').update(`${property}:${valueClass}`).digest('hex').slice(0, 10);
  return `${prefix}ix_${sqlName(property).slice(0, 30).toLowerCase()}_${valueClass[0]}_${hash}`;
}

export function tablePrefix(prefix: string | undefined): string {
  const value = prefix ?? 'aom_';
  if (!/^[a-z_][a-z0-9_]{0,20}$/.test(value))
    throw new Error(`tablePrefix must be lower-case letters, digits and _ (at most 21), got ${JSON.stringify(value)}`);
  return value;
}

/** One problem found while validating an entity: always names where, what and which rule. */
export interface AomIssue {
  readonly entityType: string;
  /** The entity's id, or null when it has none yet (a create). */
  readonly entityId: string | null;
  /** Property path such as `year` or `tags[2]`; `*` for a rule over several properties. */
  readonly property: string;
  readonly value: unknown;
  /** The constraint that failed: `required`, `type`, `min`, `pattern`, `rule:<name>`, ... */
  readonly constraint: string;
  readonly message: string;
}

/** Base class of every error this package throws on purpose. */
export class AomError extends Error {
  override name = 'AomError';
}

const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 3)}...` : text);

/** A value as it can appear in one line of a log: JSON-like, bounded in depth and length (values can nest deeply). */
function shown(value: unknown, depth = 0): string {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (value === null || typeof value !== 'object') {
    return cut(typeof value === 'string' ? JSON.stringify(value) : String(value), 60);
  }
  if (depth >= 3) return Array.isArray(value) ? '[...]' : '{...}';
  const items: [string | undefined, unknown][] = Array.isArray(value) ? value.map((item) => [undefined, item]) : Object.entries(value);
  const inner =
    items
      .slice(0, 5)
      .map(([key, item]) => (key === undefined ? '' : `${JSON.stringify(key)}:`) + shown(item, depth + 1))
      .join(',') + (items.length > 5 ? ',...' : '');
  return cut(Array.isArray(value) ? `[${inner}]` : `{${inner}}`, 60);
}

/**
 * One issue as a line that names everything needed to find and fix it, so a logged `error.message`
 * alone says which type, entity, property, value and constraint.
 */
function describeIssue(issue: AomIssue): string {
  return `${issue.message} (type ${issue.entityType}, id ${issue.entityId ?? '(new)'}, property ${issue.property}, value ${shown(issue.value)}, constraint ${issue.constraint})`;
}

/** An entity broke its type: every issue at once, never only the first. */
export class AomValidationError extends AomError {
  override name = 'AomValidationError';
  readonly issues: readonly AomIssue[];
  constructor(issues: readonly AomIssue[]) {
    const first = issues[0];
    const head = first ? describeIssue(first) : 'no issues';
    super(
      `${issues.length} validation issue${issues.length === 1 ? '' : 's'}: ${head}${issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''}`,
    );
    this.issues = issues;
  }
}

/** A type definition (plain JSON or from the builder) is malformed; `path` names the field. */
export class AomDefinitionError extends AomError {
  override name = 'AomDefinitionError';
  constructor(
    readonly typeName: string,
    readonly path: string,
    detail: string,
  ) {
    super(`type ${typeName || '(unnamed)'}: ${path ? `${path}: ` : ''}${detail}`);
  }
}

export class AomNotFoundError extends AomError {
  override name = 'AomNotFoundError';
  constructor(
    readonly kind: 'type' | 'property' | 'entity' | 'operation' | 'strategy' | 'version',
    readonly key: string,
  ) {
    super(`${kind} not found: ${key}`);
  }
}

/** A principal lacks the role a property or operation demands. */
export class AomAccessError extends AomError {
  override name = 'AomAccessError';
  constructor(
    readonly entityType: string,
    readonly entityId: string | null,
    readonly property: string,
    readonly action: 'read' | 'write' | 'run' | 'query',
    readonly roles: readonly string[],
  ) {
    super(
      `${action} of ${entityType}${entityId ? ` ${entityId}` : ''}.${property} needs one of the roles [${roles.join(', ')}] and the principal has none of them`,
    );
  }
}

/** Optimistic concurrency: the entity changed since it was read. */
export class AomConflictError extends AomError {
  override name = 'AomConflictError';
  constructor(
    readonly entityId: string,
    readonly expectedRevision: number,
  ) {
    super(`entity ${entityId} is no longer at revision ${expectedRevision}; reload it and retry`);
  }
}

/** An invalid `find` query; `path` names the offending part (e.g. `where.year.gte`). */
export class AomQueryError extends AomError {
  override name = 'AomQueryError';
  constructor(
    readonly entityType: string,
    readonly path: string,
    detail: string,
  ) {
    super(`query on ${entityType}: ${path}: ${detail}`);
  }
}

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

/** An entity broke its type: every issue at once, never only the first. */
export class AomValidationError extends AomError {
  override name = 'AomValidationError';
  readonly issues: readonly AomIssue[];
  constructor(issues: readonly AomIssue[]) {
    const first = issues[0];
    const head = first ? `${first.entityType}${first.entityId ? ` ${first.entityId}` : ''}: ${first.message}` : 'no issues';
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

/**
 * RFC 9457 problem details: the one shape every API error takes, so clients parse a single format.
 */

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface FieldError {
  /** Dotted path of the offending field inside its part (`priority`, `params.name`), or `body` for the whole body. */
  readonly field: string;
  /** Which part of the request: `body`, `query`, `path` or `header`. */
  readonly in: string;
  readonly message: string;
  /** `file:line:col` when the field sits in a definition source. */
  readonly location?: string;
}

export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly instance: string;
  readonly errors?: readonly FieldError[];
}

/** Problem types; documented in docs/orchestrator-api.md under the same slugs. */
export const PROBLEM_TYPES = {
  'validation-error': { status: 400, title: 'The request is not valid' },
  'invalid-definition': { status: 422, title: 'The job definition is not valid' },
  'not-found': { status: 404, title: 'Not found' },
  'unknown-job-type': { status: 422, title: 'The job type is not defined' },
  'job-type-disabled': { status: 409, title: 'The job type is disabled' },
  'invalid-state': { status: 409, title: 'The job is not in a state that allows this' },
  conflict: { status: 409, title: 'The request conflicts with the current state' },
  'unsupported-media-type': { status: 415, title: 'Unsupported media type' },
  'payload-too-large': { status: 413, title: 'The body is too large' },
  unauthenticated: { status: 401, title: 'A valid API token is required' },
  forbidden: { status: 403, title: "The token's scopes do not allow this" },
  'rate-limited': { status: 429, title: 'Too many requests' },
  'invalid-signature': { status: 401, title: 'The webhook signature is missing or does not match' },
  'duplicate-delivery': { status: 409, title: 'This event was already delivered' },
  'trigger-template': { status: 422, title: "The trigger's template cannot be rendered on this event" },
  'quota-exceeded': { status: 429, title: "The organisation's quota is used up" },
  'internal-error': { status: 500, title: 'Internal error' },
  'store-unavailable': { status: 503, title: 'The database cannot be reached' },
  'store-timeout': { status: 503, title: 'The database took too long' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemKind = keyof typeof PROBLEM_TYPES;

export function problemTypeUri(kind: ProblemKind): string {
  return `urn:myrmex:problem:${kind}`;
}

/** Thrown by route handlers; the error handler renders it as is. */
export class ProblemError extends Error {
  override readonly name = 'ProblemError';
  constructor(
    readonly kind: ProblemKind,
    readonly detail: string,
    readonly errors?: readonly FieldError[],
  ) {
    super(detail);
  }
}

export function makeProblem(kind: ProblemKind, detail: string, instance: string, errors?: readonly FieldError[]): Problem {
  const { status, title } = PROBLEM_TYPES[kind];
  return { type: problemTypeUri(kind), title, status, detail, instance, ...(errors && errors.length > 0 ? { errors } : {}) };
}

/** The subset of an Ajv error that names a field. */
export interface SchemaViolation {
  readonly instancePath: string;
  readonly keyword: string;
  readonly params: Record<string, unknown>;
  readonly message?: string;
}

const PART_NAMES: Record<string, string> = { body: 'body', querystring: 'query', params: 'path', headers: 'header' };

/** `/params/0/name` -> `params[0].name`. */
export function pointerToField(pointer: string): string {
  const segments = pointer
    .split('/')
    .slice(1)
    .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'));
  return segments.reduce((path, segment) => {
    if (/^\d+$/.test(segment)) return `${path}[${segment}]`;
    return path === '' ? segment : `${path}.${segment}`;
  }, '');
}

function join(base: string, name: string): string {
  return base === '' ? name : `${base}.${name}`;
}

/**
 * One FieldError per offending field, naming it and saying what is expected of it. A field that
 * breaks several rules (an empty job_type is too short and does not match the pattern) keeps the first.
 */
export function fieldErrorsFromViolations(violations: readonly SchemaViolation[], context: string): FieldError[] {
  const part = PART_NAMES[context] ?? context;
  const errors = violations.map((violation): FieldError => {
    const base = pointerToField(violation.instancePath);
    if (violation.keyword === 'required') {
      return { field: join(base, String(violation.params.missingProperty)), in: part, message: 'is required' };
    }
    if (violation.keyword === 'additionalProperties') {
      return { field: join(base, String(violation.params.additionalProperty)), in: part, message: 'is not a known field' };
    }
    const allowed = violation.params.allowedValues;
    const message = Array.isArray(allowed) ? `must be one of ${allowed.join(', ')}` : (violation.message ?? 'is not valid');
    return { field: base === '' ? part : base, in: part, message };
  });
  return errors.filter((error, index) => errors.findIndex((other) => other.field === error.field) === index);
}

/** `priority must be <= 100; job_type is required` */
export function summarize(errors: readonly FieldError[]): string {
  return errors.map((error) => `${error.field} ${error.message}`).join('; ');
}

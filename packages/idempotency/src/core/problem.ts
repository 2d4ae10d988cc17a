/** The errors a client can get, each an RFC 9457 problem with a stable type URI. */
export const PROBLEMS = {
  'key-missing': { status: 400, title: 'Idempotency-Key header required' },
  'key-malformed': { status: 400, title: 'Idempotency-Key header malformed' },
  'body-invalid': { status: 400, title: 'Request body unreadable' },
  'fingerprint-mismatch': { status: 422, title: 'Idempotency-Key reused with a different request' },
  'request-in-progress': { status: 409, title: 'A request with this Idempotency-Key is in progress' },
  'lease-lost': { status: 409, title: 'This request lost its lease on the Idempotency-Key' },
  'store-unavailable': { status: 503, title: 'Idempotency store unavailable' },
  'response-not-storable': { status: 500, title: 'Response could not be recorded' },
} as const;

export type ProblemKind = keyof typeof PROBLEMS;

export const DEFAULT_PROBLEM_BASE = 'https://www.npmjs.com/package/@myrmex/idempotency#problem-';

export interface ProblemDocument {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly instance?: string;
}

/**
 * The base of every error this package throws, so a caller can tell them from its own with one
 * `instanceof IdempotencyError`.
 */
export class IdempotencyError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IdempotencyError';
  }
}

/** A problem ready to send: status, headers (Content-Type, Retry-After, Link) and body. */
export class IdempotencyProblem extends IdempotencyError {
  readonly kind: ProblemKind;
  readonly status: number;
  readonly retryAfterSeconds: number | undefined;

  constructor(kind: ProblemKind, detail: string, options: { retryAfterSeconds?: number; cause?: unknown } = {}) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'IdempotencyProblem';
    this.kind = kind;
    this.status = PROBLEMS[kind].status;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  document(base = DEFAULT_PROBLEM_BASE): ProblemDocument {
    return { type: `${base}${this.kind}`, title: PROBLEMS[this.kind].title, status: this.status, detail: this.message };
  }

  headers(base = DEFAULT_PROBLEM_BASE): Record<string, string> {
    const headers: Record<string, string> = {
      'content-type': 'application/problem+json',
      // The relation and media type the IETF draft uses for its documentation link.
      link: `<${base}${this.kind}>; rel="describedby"; type="text/html"`,
    };
    if (this.retryAfterSeconds !== undefined) headers['retry-after'] = String(this.retryAfterSeconds);
    return headers;
  }

  body(base = DEFAULT_PROBLEM_BASE): Buffer {
    return Buffer.from(JSON.stringify(this.document(base)));
  }
}

/** Thrown by a store call that could not reach or use its backend. */
export class StoreUnavailableError extends IdempotencyError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

/** A completion or release presented a token that no longer holds the key. */
export class StaleLeaseError extends IdempotencyError {
  constructor(
    readonly scope: string,
    message = `the lease on idempotency scope ${scope} was lost: another request holds the key now, so this result was not recorded`,
  ) {
    super(message);
    this.name = 'StaleLeaseError';
  }
}

/**
 * The work held its key longer than `maxHoldMs`: heartbeats stopped, so another request may take
 * the key over once the lease lapses. The lease's signal aborts with this error.
 */
export class LeaseExpiredError extends StaleLeaseError {
  constructor(scope: string, maxHoldMs: number) {
    super(scope, `the work held idempotency scope ${scope} longer than maxHoldMs (${maxHoldMs} ms); its lease is no longer renewed`);
    this.name = 'LeaseExpiredError';
  }
}

/**
 * The application's `principal` resolver gave no principal. Keys of unauthenticated callers must
 * not share one key space, so nothing runs: authenticate before the idempotency hook.
 */
export class PrincipalMissingError extends IdempotencyError {
  constructor(where: string, got: unknown) {
    super(
      `idempotency: principal(request) returned ${got === '' ? 'an empty string' : String(got)} for ${where}; ` +
        'authenticate the caller before the idempotency hook (and refuse unauthenticated requests there)',
    );
    this.name = 'PrincipalMissingError';
  }
}

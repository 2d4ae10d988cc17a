import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { fingerprint, scopeOf } from './fingerprint.js';
import { parseIdempotencyKey } from './key.js';
import { Lease } from './lease.js';
import { emptyMetrics, type IdempotencyMetrics } from './metrics.js';
import { type EngineOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { IdempotencyProblem, StoreUnavailableError } from './problem.js';
import type { ClaimResult, StoredResponse } from './types.js';

/** One incoming request, reduced to what idempotency needs. No HTTP library types. */
export interface BeginRequest {
  readonly method: string;
  /** The route template (`/payments/:id`), not the concrete path. */
  readonly route: string;
  /** Who the key belongs to, as the application authenticated it. */
  readonly principal: string;
  /** The raw `Idempotency-Key` header value, if any. */
  readonly key: string | undefined;
  readonly body: Buffer;
}

export type Begin =
  /** The method does not require a key and none was sent: run the handler unprotected. */
  | { readonly kind: 'pass' }
  | { readonly kind: 'execute'; readonly lease: Lease; readonly key: string }
  | { readonly kind: 'replay'; readonly response: StoredResponse; readonly key: string }
  | { readonly kind: 'problem'; readonly problem: IdempotencyProblem }
  /** The store is down and `failOpen` is set: run the handler without protection. */
  | { readonly kind: 'unprotected'; readonly reason: string };

const POLL_MS = 25;

export class IdempotencyEngine {
  readonly options: ResolvedOptions;
  readonly metrics: IdempotencyMetrics = emptyMetrics();

  constructor(options: EngineOptions) {
    this.options = resolveOptions(options);
  }

  async begin(request: BeginRequest): Promise<Begin> {
    validateRequest(request);
    const method = request.method.toUpperCase();
    if (request.key === undefined) {
      if (!this.options.requiredMethods.has(method)) return { kind: 'pass' };
      this.metrics.missingKeys++;
      return problem('key-missing', `${method} ${request.route} requires an Idempotency-Key header`);
    }
    const parsed = parseIdempotencyKey(request.key);
    if (!parsed.ok) {
      this.metrics.malformedKeys++;
      return problem('key-malformed', parsed.reason);
    }
    const scope = scopeOf(
      this.options.scope === 'route'
        ? { principal: request.principal, method, route: request.route, key: parsed.key }
        : { principal: request.principal, key: parsed.key },
    );
    let print: string;
    try {
      print = fingerprint({ method, route: request.route, body: request.body }, this.options.fingerprint);
    } catch (error) {
      if (error instanceof IdempotencyProblem) return { kind: 'problem', problem: error };
      throw error;
    }
    try {
      return await this.claimOrWait(scope, print, parsed.key);
    } catch (error) {
      return this.storeFailed(error, scope);
    }
  }

  /** Runs a store call under the store timeout; any failure becomes a StoreUnavailableError. */
  async call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new StoreUnavailableError(`idempotency store ${operation} took longer than ${this.options.storeTimeoutMs} ms`)),
        this.options.storeTimeoutMs,
      );
    });
    try {
      return await Promise.race([run(), timeout]);
    } catch (error) {
      if (error instanceof StoreUnavailableError) throw error;
      throw new StoreUnavailableError(`idempotency store ${operation} failed: ${describe(error)}`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }

  private async claimOrWait(scope: string, print: string, key: string): Promise<Begin> {
    const deadline = this.options.clock() + this.options.waitMs;
    for (;;) {
      const token = randomUUID();
      const now = this.options.clock();
      const claim: ClaimResult = await this.call('claim', () =>
        this.options.store.claim({
          scope,
          fingerprint: print,
          token,
          now,
          leaseExpiresAt: now + this.options.leaseMs,
          expiresAt: now + this.options.retentionMs,
        }),
      );
      if (claim.outcome === 'claimed') {
        this.metrics.executions++;
        if (claim.reclaimed) this.metrics.reclaims++;
        return {
          kind: 'execute',
          key,
          lease: new Lease(this.options, this.metrics, (operation, run) => this.call(operation, run), { scope, token, fingerprint: print }),
        };
      }
      const { record } = claim;
      if (record.fingerprint !== print) {
        this.metrics.fingerprintMismatches++;
        return problem('fingerprint-mismatch', `the Idempotency-Key ${JSON.stringify(key)} was first used with a different request`);
      }
      if (record.state === 'completed') {
        this.metrics.replays++;
        return { kind: 'replay', key, response: record.response };
      }
      const remaining = deadline - this.options.clock();
      if (remaining <= 0) {
        this.metrics.inProgress++;
        return problem('request-in-progress', `a request with the Idempotency-Key ${JSON.stringify(key)} is still being processed`, {
          retryAfterSeconds: this.options.retryAfterSeconds,
        });
      }
      await sleep(Math.min(POLL_MS, remaining));
    }
  }

  private storeFailed(error: unknown, scope: string): Begin {
    this.metrics.storeErrors++;
    this.options.logger.error({ scope, error: describe(error) }, 'idempotency store unavailable');
    if (this.options.failOpen) {
      this.metrics.failOpen++;
      return { kind: 'unprotected', reason: describe(error) };
    }
    return problem('store-unavailable', 'the idempotency store cannot be reached; nothing was executed', {
      retryAfterSeconds: this.options.retryAfterSeconds,
    });
  }
}

function problem(
  kind: ConstructorParameters<typeof IdempotencyProblem>[0],
  detail: string,
  options: { retryAfterSeconds?: number } = {},
): Begin {
  return { kind: 'problem', problem: new IdempotencyProblem(kind, detail, options) };
}

function validateRequest(request: BeginRequest): void {
  if (request === null || typeof request !== 'object') throw new TypeError('begin(request): request must be an object');
  for (const field of ['method', 'route', 'principal'] as const) {
    if (typeof request[field] !== 'string' || request[field] === '')
      throw new TypeError(`begin(request): request.${field} must be a non-empty string`);
  }
  if (request.key !== undefined && typeof request.key !== 'string')
    throw new TypeError('begin(request): request.key must be a string or undefined');
  if (!Buffer.isBuffer(request.body)) throw new TypeError('begin(request): request.body must be a Buffer');
}

function describe(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return describe(error.errors[0]);
  return error instanceof Error ? error.message : String(error);
}

import type { IdempotencyEngine } from '../core/engine.js';
import type { Lease } from '../core/lease.js';
import type { ResponseInput } from '../core/policy.js';
import { IdempotencyProblem, StaleLeaseError } from '../core/problem.js';
import type { StoredResponse } from '../core/types.js';

/** A response an adapter writes as is. */
export interface OutgoingResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

export const REPLAYED_HEADER = 'idempotent-replayed';
/** Set when a response was sent but not kept, so a retry will execute again. */
export const NOT_STORED_HEADER = 'idempotency-not-stored';

export function problemResponse(engine: IdempotencyEngine, problem: IdempotencyProblem): OutgoingResponse {
  const base = engine.options.problemBase;
  return { status: problem.status, headers: problem.headers(base), body: problem.body(base) };
}

export function replayResponse(stored: StoredResponse): OutgoingResponse {
  return { status: stored.status, headers: { ...stored.headers, [REPLAYED_HEADER]: 'true' }, body: stored.body };
}

/** What to do with the handler's response once the lease is settled. */
export type Finish =
  | { readonly kind: 'send'; readonly extraHeaders: Record<string, string> }
  | { readonly kind: 'replace'; readonly response: OutgoingResponse };

/**
 * Records or releases the key for a response the handler produced. A stale lease replaces the
 * response with 409 (the retry will get the newer result); a store failure sends the response
 * anyway, marked as not stored, because the work is done and hiding its result helps nobody.
 */
export async function finish(engine: IdempotencyEngine, lease: Lease, input: ResponseInput): Promise<Finish> {
  if (lease.lost) return { kind: 'replace', response: leaseLost(engine, new StaleLeaseError(lease.scope)) };
  // The handler's atomic transaction was rolled back because its response could not be kept:
  // whatever error page the framework made of that, the client gets the problem document.
  if (lease.refusal) return { kind: 'replace', response: problemResponse(engine, lease.refusal) };
  if (lease.settled) return { kind: 'send', extraHeaders: {} };
  try {
    const settlement = await lease.complete(input);
    if (settlement.kind === 'released' && settlement.reason === 'too-large') {
      return { kind: 'send', extraHeaders: { [NOT_STORED_HEADER]: 'body-too-large' } };
    }
    return { kind: 'send', extraHeaders: {} };
  } catch (error) {
    if (error instanceof StaleLeaseError) return { kind: 'replace', response: leaseLost(engine, error) };
    engine.options.logger.error({ scope: lease.scope, error: String(error) }, 'response sent but not recorded');
    return { kind: 'send', extraHeaders: { [NOT_STORED_HEADER]: 'store-unavailable' } };
  }
}

function leaseLost(engine: IdempotencyEngine, error: StaleLeaseError): OutgoingResponse {
  return problemResponse(
    engine,
    new IdempotencyProblem('lease-lost', error.message, { retryAfterSeconds: engine.options.retryAfterSeconds }),
  );
}

/** A response the handler streams cannot be kept: release the key and say so. */
export async function finishUnbuffered(engine: IdempotencyEngine, lease: Lease): Promise<Record<string, string>> {
  try {
    await lease.release();
  } catch (error) {
    engine.options.logger.error({ scope: lease.scope, error: String(error) }, 'release failed');
  }
  return { [NOT_STORED_HEADER]: 'streamed-body' };
}

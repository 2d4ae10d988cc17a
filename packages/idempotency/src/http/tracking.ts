import type { Lease } from '../core/lease.js';

/** The idempotency state of a request that is executing under a lease. */
export interface Protected {
  readonly key: string;
  readonly lease: Lease;
}

// Keyed by the framework's request object, so no framework type is decorated or widened.
const states = new WeakMap<object, Protected>();

export function track(request: object, state: Protected): void {
  states.set(request, state);
}

/**
 * The key and lease of a request the handler is executing under idempotency, or undefined when
 * the request is not protected. Use `lease.signal` to stop work once the lease is lost, and pass
 * the lease to a SQL store's `atomic` to commit the work and the key in one transaction.
 */
export function idempotencyOf(request: object): Protected | undefined {
  return states.get(request);
}

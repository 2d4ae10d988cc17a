import type { IdempotencyMetrics } from './metrics.js';
import type { ResolvedOptions } from './options.js';
import { decide, type ResponseInput } from './policy.js';
import { IdempotencyProblem, LeaseExpiredError, StaleLeaseError } from './problem.js';
import type { CompleteRequest, StoredResponse } from './types.js';

/** A store call under the engine's timeout and error mapping. */
export type StoreCall = <T>(operation: string, run: () => Promise<T>) => Promise<T>;

/** How a lease ended. `released` leaves the key free for a retry. */
export type Settlement =
  | { readonly kind: 'stored'; readonly response: StoredResponse }
  | { readonly kind: 'released'; readonly reason: 'status' | 'too-large' };

/**
 * The right to execute one request for one key. It keeps itself alive with heartbeats, aborts
 * `signal` when it is lost, and ends exactly once: completed or released, both fenced by token.
 */
export class Lease {
  readonly scope: string;
  readonly token: string;
  readonly fingerprint: string;
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private ended = false;
  private lostKey = false;
  private refused: IdempotencyProblem | undefined;
  private readonly holdUntil: number;

  constructor(
    private readonly options: ResolvedOptions,
    private readonly metrics: IdempotencyMetrics,
    private readonly call: StoreCall,
    claim: { scope: string; token: string; fingerprint: string },
  ) {
    this.scope = claim.scope;
    this.token = claim.token;
    this.fingerprint = claim.fingerprint;
    this.holdUntil = options.clock() + options.maxHoldMs;
    this.timer = setInterval(() => void this.beat(), options.heartbeatMs);
    this.timer.unref();
  }

  /** Aborted when a heartbeat finds another request holds the key: stop work that is not yet committed. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get settled(): boolean {
    return this.ended;
  }

  /** True once another request took the key: this request's result must not be presented as the answer. */
  get lost(): boolean {
    return this.lostKey;
  }

  /** Set when `prepare` refused a response (atomic mode): the adapter answers with this problem instead. */
  get refusal(): IdempotencyProblem | undefined {
    return this.refused;
  }

  /** Applies the replay policy, then records the response or releases the key. */
  async complete(input: ResponseInput): Promise<Settlement> {
    const decision = decide(this.options.policy, input);
    if (!decision.store) {
      if (decision.reason === 'too-large') this.metrics.notStoredTooLarge++;
      await this.release();
      return { kind: 'released', reason: decision.reason };
    }
    const request = this.completion(decision.response);
    let applied: boolean;
    try {
      applied = await this.call('complete', () => this.options.store.complete(request));
    } catch (error) {
      // Stop renewing: the key lapses after one lease and a retry can run, instead of the
      // heartbeat keeping an unrecordable execution pending until maxHoldMs.
      this.end();
      throw error;
    }
    this.confirm(applied);
    return { kind: 'stored', response: decision.response };
  }

  /**
   * The completion to write inside an application transaction (atomic mode). Throws when the
   * policy would not store this response, so the transaction rolls back and the key is released.
   */
  prepare(input: ResponseInput): CompleteRequest {
    const decision = decide(this.options.policy, input);
    if (!decision.store) {
      this.refused = new IdempotencyProblem(
        'response-not-storable',
        decision.reason === 'too-large'
          ? `the response body has ${input.body.length} bytes, over maxBodyBytes (${this.options.policy.maxBodyBytes}); the transaction was rolled back`
          : `status ${input.status} is not stored by the replay policy; in atomic mode the transaction was rolled back`,
      );
      throw this.refused;
    }
    return this.completion(decision.response);
  }

  /** Reports whether the fenced completion was applied; a stale one is logged, counted and thrown. */
  confirm(applied: boolean): void {
    this.end();
    if (applied) return;
    this.lostKey = true;
    this.metrics.staleCompletions++;
    this.options.logger.warn({ scope: this.scope }, 'stale completion rejected: the lease expired and another request took the key');
    throw new StaleLeaseError(this.scope);
  }

  /** Frees the key for a retry. A no-op once the lease has ended. */
  async release(): Promise<void> {
    if (this.ended) return;
    this.end();
    this.metrics.released++;
    if (!(await this.call('release', () => this.options.store.release(this.scope, this.token)))) {
      this.lostKey = true;
      this.metrics.staleCompletions++;
      this.options.logger.warn({ scope: this.scope }, 'stale release ignored: another request holds the key');
    }
  }

  private completion(response: StoredResponse): CompleteRequest {
    return { scope: this.scope, token: this.token, response, expiresAt: this.options.clock() + this.options.retentionMs };
  }

  private end(): void {
    this.ended = true;
    clearInterval(this.timer);
  }

  private async beat(): Promise<void> {
    if (this.ended) return;
    if (this.options.clock() >= this.holdUntil) {
      // The key will lapse and another request may take it: from here on this work is not the
      // answer, so it is told to stop and its result is refused, as for a lease lost to a peer.
      this.end();
      this.lostKey = true;
      this.metrics.leasesLost++;
      this.options.logger.warn({ scope: this.scope }, 'lease held longer than maxHoldMs: no longer renewed, aborting this request');
      this.controller.abort(new LeaseExpiredError(this.scope, this.options.maxHoldMs));
      return;
    }
    try {
      const held = await this.call('heartbeat', () =>
        this.options.store.heartbeat(this.scope, this.token, this.options.clock() + this.options.leaseMs),
      );
      if (held || this.ended) return;
      this.end();
      this.lostKey = true;
      this.metrics.leasesLost++;
      this.options.logger.warn({ scope: this.scope }, 'lease lost: another request took the key; aborting this one');
      this.controller.abort(new StaleLeaseError(this.scope));
    } catch (error) {
      // The lease may still be valid; the next beat tries again before it runs out.
      this.options.logger.warn({ scope: this.scope, error: String(error) }, 'heartbeat failed');
    }
  }
}

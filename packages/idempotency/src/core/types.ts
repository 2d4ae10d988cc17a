/** A response as it is kept and replayed: status, allowlisted headers and the exact body bytes. */
export interface StoredResponse {
  readonly status: number;
  /** Lower-case header names; only those the replay policy allows. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

/** What a store knows about one scoped key. */
export type KeyRecord =
  | {
      readonly state: 'pending';
      readonly fingerprint: string;
      readonly leaseExpiresAt: number;
      readonly expiresAt: number;
    }
  | {
      readonly state: 'completed';
      readonly fingerprint: string;
      readonly response: StoredResponse;
      readonly expiresAt: number;
    };

export interface ClaimRequest {
  /** The scoped key (principal, method, route and client key, hashed): the store's primary key. */
  readonly scope: string;
  readonly fingerprint: string;
  /** Random fencing token of this claim; completion and release must present it. */
  readonly token: string;
  /** All times are milliseconds since the epoch, taken from the engine's clock. */
  readonly now: number;
  readonly leaseExpiresAt: number;
  readonly expiresAt: number;
}

/**
 * The outcome of one atomic claim. `claimed` means this caller now holds the lease; `reclaimed`
 * says it took over a record whose lease or retention had run out.
 */
export type ClaimResult =
  | { readonly outcome: 'claimed'; readonly reclaimed: boolean }
  | { readonly outcome: 'exists'; readonly record: KeyRecord };

export interface CompleteRequest {
  readonly scope: string;
  readonly token: string;
  readonly response: StoredResponse;
  readonly expiresAt: number;
}

/**
 * The storage contract. Every method is one atomic operation in the store: a claim is a single
 * conditional write (never a read followed by a write), and heartbeat, complete and release
 * succeed only while the record is pending under the caller's token (compare-and-set fencing).
 */
export interface IdempotencyStore {
  /**
   * Creates a pending record unless a live one exists. A record is live until `expiresAt`; a
   * pending record whose lease ran out may be taken over, but only by a request with the same
   * fingerprint.
   */
  claim(request: ClaimRequest): Promise<ClaimResult>;
  /** Moves the lease end of a pending record held under `token`. False when the lease was lost. */
  heartbeat(scope: string, token: string, leaseExpiresAt: number): Promise<boolean>;
  /** Records the response of a pending record held under `token`. False when the token is stale. */
  complete(request: CompleteRequest): Promise<boolean>;
  /** Deletes a pending record held under `token` so the client may retry. False when the token is stale. */
  release(scope: string, token: string): Promise<boolean>;
  /** The live record of a scope, or undefined when absent or past its retention. */
  get(scope: string, now: number): Promise<KeyRecord | undefined>;
  /** Deletes every record past its retention; returns how many went. */
  sweep(now: number): Promise<number>;
  close(): Promise<void>;
}

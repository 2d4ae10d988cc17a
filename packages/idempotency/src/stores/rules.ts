import type { ClaimRequest, KeyRecord } from '../core/types.js';

/**
 * Whether a claim may overwrite an existing record: the record's retention is over, or it is
 * pending, its lease ran out and the new request is the same request (same fingerprint). Every
 * store applies exactly this rule inside its atomic write (SQL and Lua spell it out themselves).
 */
export function claimable(record: KeyRecord, request: Pick<ClaimRequest, 'now' | 'fingerprint'>): boolean {
  if (record.expiresAt <= request.now) return true;
  return record.state === 'pending' && record.leaseExpiresAt <= request.now && record.fingerprint === request.fingerprint;
}

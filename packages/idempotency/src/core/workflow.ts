import { createHash } from 'node:crypto';
import { MAX_KEY_LENGTH, parseIdempotencyKey } from './key.js';

/**
 * The key of one step of a multi-step operation, derived from the operation's own key. A
 * retried workflow derives the same step keys, so steps that already ran replay their results
 * and only the missing ones execute. Distinct step names give distinct keys.
 */
export function stepKey(parentKey: string, step: string): string {
  const parsed = parseIdempotencyKey(parentKey);
  if (!parsed.ok) throw new TypeError(`stepKey: parentKey is not a valid Idempotency-Key: ${parsed.reason}`);
  if (typeof step !== 'string' || !/^[A-Za-z0-9._:-]{1,64}$/.test(step)) {
    throw new TypeError('stepKey: step must be 1 to 64 characters of letters, digits, ".", "_", ":" or "-"');
  }
  const digest = createHash('sha256').update(`${parsed.key.length}:${parsed.key}|${step}`).digest('base64url');
  const key = `wf:${digest}:${step}`;
  return key.length <= MAX_KEY_LENGTH ? key : key.slice(0, MAX_KEY_LENGTH);
}

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

/**
 * The Idempotency-Key an orchestrator task sends with its HTTP call, derived from the job and the
 * task. Every attempt of the task in that job sends the same key, so when an attempt timed out
 * after the server acted, the retry gets the first answer replayed instead of acting twice. The
 * attempt number is left out on purpose: a key per attempt would make every retry a new request
 * (Temporal gives the same advice for activities: run id and activity id, not the attempt).
 */
export function taskKey(parts: { readonly jobId: string; readonly taskType: string }): string {
  if (parts === null || typeof parts !== 'object') throw new TypeError('taskKey: parts must be { jobId, taskType }');
  for (const field of ['jobId', 'taskType'] as const) {
    if (typeof parts[field] !== 'string' || parts[field] === '') throw new TypeError(`taskKey: ${field} must be a non-empty string`);
  }
  const digest = createHash('sha256')
    .update(JSON.stringify([parts.jobId, parts.taskType]))
    .digest('base64url');
  return `task:${digest}`;
}

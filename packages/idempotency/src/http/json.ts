import type { StoredResponse } from '../core/types.js';

/** A JSON response as bytes, for handlers that build their response inside a store transaction. */
export function jsonResponse(status: number, value: unknown, headers: Record<string, string> = {}): StoredResponse {
  if (!Number.isInteger(status) || status < 100 || status > 599)
    throw new RangeError(`jsonResponse: status must be an HTTP status, got ${status}`);
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body: Buffer.from(JSON.stringify(value)) };
}

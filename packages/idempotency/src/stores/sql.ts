import type { KeyRecord } from '../core/types.js';

/** Table names are interpolated into SQL, so only plain identifiers are allowed. */
export function tableName(value: unknown, fallback: string): string {
  const name = value ?? fallback;
  if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(name)) {
    throw new TypeError(`options.table must be a plain SQL identifier (letters, digits, _), got ${String(name)}`);
  }
  return name;
}

/** One row of a key table as the drivers return it; numbers may arrive as strings (int8). */
export interface KeyRow {
  readonly fingerprint: string;
  readonly state: string;
  readonly lease_expires_at: number | string | null;
  readonly expires_at: number | string;
  readonly status: number | null;
  readonly headers: string | null;
  readonly body: Buffer | Uint8Array | null;
}

export function recordFromRow(row: KeyRow): KeyRecord {
  const expiresAt = Number(row.expires_at);
  if (row.state === 'completed') {
    return {
      state: 'completed',
      fingerprint: row.fingerprint,
      expiresAt,
      response: {
        status: Number(row.status),
        headers: JSON.parse(row.headers ?? '{}') as Record<string, string>,
        body: row.body ? Buffer.from(row.body.buffer, row.body.byteOffset, row.body.byteLength) : Buffer.alloc(0),
      },
    };
  }
  return { state: 'pending', fingerprint: row.fingerprint, leaseExpiresAt: Number(row.lease_expires_at), expiresAt };
}

/** How many times a claim retries when the row it lost to vanished before it could be read. */
export const CLAIM_ATTEMPTS = 5;

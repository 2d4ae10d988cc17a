import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** What a token may do. `ant` is for workers only: it cannot call the user API. */
export const TOKEN_SCOPES = ['read', 'submit', 'cancel', 'approve', 'admin', 'ant'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

const PREFIX = 'myx';
const ID_BYTES = 9;
const SECRET_BYTES = 32;
const TOKEN_SHAPE = /^myx_([A-Za-z0-9_-]{12})_([A-Za-z0-9_-]{43})$/;

export interface IssuedToken {
  /** Public, stored in clear: finds the row without scanning hashes, and names the token in logs and lists. */
  readonly id: string;
  /** The whole token, given to its owner once and never stored. */
  readonly plaintext: string;
  /** What the store keeps. */
  readonly hash: string;
}

export class TokenFormatError extends Error {
  override readonly name = 'TokenFormatError';
}

/**
 * Tokens carry 256 random bits, so a keyed SHA-256 (HMAC under a server-side pepper) is as strong as a
 * slow password hash against guessing, costs microseconds per request instead of tens of milliseconds,
 * and a stolen table alone verifies nothing without the pepper.
 */
export function hashTokenSecret(pepper: Buffer, secret: string): string {
  return createHmac('sha256', pepper).update(secret).digest('hex');
}

export function issueToken(pepper: Buffer): IssuedToken {
  if (pepper.length < 16) throw new TokenFormatError('the token pepper must be at least 16 bytes');
  // Drawn again when it would start with '-': a command line reads `token revoke -GVIy...` as an option.
  let id: string;
  do id = randomBytes(ID_BYTES).toString('base64url');
  while (id.startsWith('-'));
  const secret = randomBytes(SECRET_BYTES).toString('base64url');
  return { id, plaintext: `${PREFIX}_${id}_${secret}`, hash: hashTokenSecret(pepper, secret) };
}

/** Splits a presented token; anything else is refused with a reason that never echoes the input. */
export function parseToken(presented: unknown): { readonly id: string; readonly secret: string } {
  if (typeof presented !== 'string') throw new TokenFormatError('a token must be a string');
  const match = TOKEN_SHAPE.exec(presented.trim());
  if (!match) throw new TokenFormatError(`a token looks like ${PREFIX}_<12 characters>_<43 characters>`);
  return { id: match[1] as string, secret: match[2] as string };
}

/** Constant-time check of a presented token against the stored hash of its id's row. */
export function verifyTokenSecret(pepper: Buffer, secret: string, storedHash: string): boolean {
  const expected = Buffer.from(storedHash, 'hex');
  const actual = Buffer.from(hashTokenSecret(pepper, secret), 'hex');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** `admin` implies every user scope of its organisation; `ant` implies nothing else and nothing implies it. */
export function scopeAllows(granted: readonly TokenScope[], needed: TokenScope): boolean {
  if (granted.includes(needed)) return true;
  return needed !== 'ant' && granted.includes('admin');
}

export function parseScopes(input: unknown, field = 'scopes'): TokenScope[] {
  if (!Array.isArray(input) || input.length === 0) {
    throw new TokenFormatError(`${field} must be a non-empty list of ${TOKEN_SCOPES.join(', ')}`);
  }
  const out: TokenScope[] = [];
  input.forEach((value, i) => {
    if (!TOKEN_SCOPES.includes(value as TokenScope)) {
      throw new TokenFormatError(`${field}[${i}] is ${JSON.stringify(value)}; expected one of ${TOKEN_SCOPES.join(', ')}`);
    }
    if (!out.includes(value as TokenScope)) out.push(value as TokenScope);
  });
  return out;
}

export const MAX_KEY_LENGTH = 255;

export type ParsedKey = { readonly ok: true; readonly key: string } | { readonly ok: false; readonly reason: string };

// RFC 9651 token characters. A bare key may start with a digit (UUIDs do), which a strict
// sf-token forbids; clients in the wild send bare UUIDs, so they are accepted.
const BARE = /^[A-Za-z0-9!#$%&'*+.^_`|~:/-]+$/;

/**
 * Reads an `Idempotency-Key` header value: a Structured Field string (`"abc"`, with `\"` and
 * `\\` escapes) or a bare token. Surrounding spaces are ignored; anything else is malformed.
 */
export function parseIdempotencyKey(raw: string): ParsedKey {
  const value = raw.trim();
  if (value === '') return { ok: false, reason: 'the Idempotency-Key header is empty' };
  const key = value.startsWith('"') ? parseQuoted(value) : BARE.test(value) ? value : undefined;
  if (key === undefined) {
    return { ok: false, reason: 'the Idempotency-Key header is neither a quoted Structured Field string nor a bare token' };
  }
  if (key.length === 0) return { ok: false, reason: 'the Idempotency-Key is an empty string' };
  if (key.length > MAX_KEY_LENGTH) {
    return { ok: false, reason: `the Idempotency-Key has ${key.length} characters; at most ${MAX_KEY_LENGTH} are allowed` };
  }
  return { ok: true, key };
}

function parseQuoted(value: string): string | undefined {
  let out = '';
  for (let i = 1; i < value.length; i++) {
    const char = value[i]!;
    const code = char.charCodeAt(0);
    if (char === '\\') {
      const next = value[i + 1];
      if (next !== '"' && next !== '\\') return undefined;
      out += next;
      i++;
    } else if (char === '"') {
      return i === value.length - 1 ? out : undefined;
    } else if (code < 0x20 || code > 0x7e) {
      return undefined;
    } else {
      out += char;
    }
  }
  return undefined;
}

/** A key as a Structured Field string (RFC 9651 sf-string), as the IETF draft sends it; a value already quoted is kept. */
export function serializeKey(key: string): string {
  if (typeof key !== 'string' || key === '') throw new TypeError('an Idempotency-Key must be a non-empty string');
  if (key.startsWith('"')) return key;
  if (!/^[\x20-\x7e]*$/.test(key)) throw new TypeError(`an Idempotency-Key must be printable ASCII, got ${JSON.stringify(key)}`);
  return `"${key.replace(/[\\"]/g, (char) => `\\${char}`)}"`;
}

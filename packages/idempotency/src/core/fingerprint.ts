import { createHash } from 'node:crypto';

/**
 * What a request's fingerprint covers besides method and route: the raw body bytes (default),
 * a canonical JSON form with sorted keys (so re-serialising clients still match), or only the
 * named top-level or dotted fields of a JSON body.
 */
export type FingerprintMode = 'raw' | 'canonical-json' | { readonly fields: readonly string[] };

export interface FingerprintInput {
  readonly method: string;
  readonly route: string;
  readonly body: Buffer;
}

export function fingerprint(input: FingerprintInput, mode: FingerprintMode = 'raw'): string {
  const hash = createHash('sha256');
  // Length prefixes keep the parts unambiguous: ("a", "bc") never hashes like ("ab", "c").
  for (const part of [Buffer.from(input.method.toUpperCase()), Buffer.from(input.route), content(input.body, mode)]) {
    hash.update(`${part.length}:`);
    hash.update(part);
  }
  return hash.digest('hex');
}

function content(body: Buffer, mode: FingerprintMode): Buffer {
  if (mode === 'raw' || body.length === 0) return body;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    // A body that is not JSON has no canonical form; its bytes are the only faithful identity.
    return body;
  }
  if (mode === 'canonical-json') return Buffer.from(canonicalJson(parsed));
  return Buffer.from(canonicalJson(mode.fields.map((field) => [field, pick(parsed, field) ?? null])));
}

/** JSON with object keys sorted at every depth. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function pick(value: unknown, path: string): unknown {
  let current = value;
  for (const segment of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

/**
 * The store key of a request: principal and client key, plus method and route unless the key is
 * scoped by principal only (then they are omitted), hashed to a fixed width.
 */
export function scopeOf(parts: { principal: string; key: string; method?: string; route?: string }): string {
  return createHash('sha256')
    .update(JSON.stringify([parts.principal, parts.method?.toUpperCase() ?? null, parts.route ?? null, parts.key]))
    .digest('hex');
}

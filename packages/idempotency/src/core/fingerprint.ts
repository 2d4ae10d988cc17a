import { createHash } from 'node:crypto';
import { parse } from 'lossless-json';
import { IdempotencyProblem } from './problem.js';

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
  const parsed = parseLossless(body);
  // A body that is not JSON has no canonical form; its bytes are the only faithful identity.
  if (parsed === NOT_JSON) return body;
  if (mode === 'canonical-json') return Buffer.from(canonicalJson(parsed));
  return Buffer.from(canonicalJson(mode.fields.map((field) => [field, pick(parsed, field) ?? null])));
}

const NOT_JSON = Symbol('not JSON');

/**
 * A JSON number kept as its exact decimal value: JSON.parse would round 2^53 + 1 to 2^53 and two
 * different requests would share one fingerprint.
 */
class ExactNumber {
  constructor(readonly canonical: string) {}
}

/**
 * Parses JSON without losing a digit, refusing duplicate keys with different values (JSON.parse
 * keeps the last one, so `{"a":1,"a":2}` and `{"a":2}` would otherwise look alike).
 */
function parseLossless(body: Buffer): unknown {
  const text = body.toString('utf8');
  try {
    JSON.parse(text);
  } catch {
    return NOT_JSON;
  }
  try {
    return parse(text, null, (lexeme) => new ExactNumber(canonicalNumber(lexeme)));
  } catch (error) {
    throw new IdempotencyProblem('body-invalid', `the request body cannot be fingerprinted: ${(error as Error).message}`);
  }
}

/** The exact decimal value of a JSON number in one spelling: `1.50e3`, `1500` and `1500.0` are `15e2`. */
export function canonicalNumber(lexeme: string): string {
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(lexeme);
  if (!match) throw new SyntaxError(`not a JSON number: ${lexeme}`);
  const [, sign, whole, fraction = '', exponent = '0'] = match;
  let digits = `${whole}${fraction}`.replace(/^0+/, '');
  if (digits === '') return '0';
  let power = BigInt(exponent) - BigInt(fraction.length);
  const trailing = /0+$/.exec(digits)?.[0].length ?? 0;
  digits = digits.slice(0, digits.length - trailing);
  power += BigInt(trailing);
  return `${sign}${digits}${power === 0n ? '' : `e${power}`}`;
}

/** JSON with object keys sorted at every depth (numbers parsed losslessly are written exactly). */
export function canonicalJson(value: unknown): string {
  if (value instanceof ExactNumber) return value.canonical;
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  if (typeof value === 'number' && Number.isFinite(value)) return canonicalNumber(JSON.stringify(value));
  return JSON.stringify(value) ?? 'null';
}

function pick(value: unknown, path: string): unknown {
  let current = value;
  for (const segment of path.split('.')) {
    if (current === null || typeof current !== 'object' || current instanceof ExactNumber) return undefined;
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

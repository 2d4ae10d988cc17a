export const MASK = '***';

/** Shorter values would blank out ordinary words in every log line; such secrets are refused at creation. */
export const MIN_SECRET_LENGTH = 4;
/** A partial base64 run shorter than this matches ordinary text too often to be worth masking. */
const MIN_ENCODED_RUN = 6;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The characters of base64(prefix + value + suffix) that depend only on the value, for each of the
 * three alignments the value can have inside a longer encoded stream: a script that base64-encodes a
 * whole file containing the secret prints one of these runs, whatever surrounds it.
 */
function base64Runs(value: Buffer): string[] {
  const runs: string[] = [];
  for (let offset = 0; offset < 3; offset++) {
    const encoded = Buffer.concat([Buffer.alloc(offset), value]).toString('base64');
    const firstBit = offset * 8;
    const lastBit = firstBit + value.length * 8;
    const from = Math.ceil(firstBit / 6);
    const to = Math.floor(lastBit / 6);
    const run = encoded.slice(from, to);
    if (run.length >= MIN_ENCODED_RUN) runs.push(run);
  }
  return runs;
}

/** Every printable form of one secret line that a task might write. */
export function secretForms(value: string): string[] {
  const forms = new Set<string>([value]);
  const bytes = Buffer.from(value, 'utf8');
  for (const run of base64Runs(bytes)) {
    forms.add(run);
    forms.add(run.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  const whole = bytes.toString('base64');
  forms.add(whole);
  forms.add(bytes.toString('base64url'));
  forms.add(encodeURIComponent(value));
  forms.add(encodeURIComponent(value).replace(/%20/g, '+'));
  forms.add(escape(value));
  forms.add(JSON.stringify(value).slice(1, -1));
  forms.add(bytes.toString('hex'));
  return [...forms].filter((form) => form.length >= MIN_SECRET_LENGTH);
}

/**
 * Replaces every form of every secret with {@link MASK}, longest first, so a longer encoding is never
 * left half-masked by a shorter one. Multi-line secrets (PEM keys) are masked line by line, since logs
 * are stored and streamed a line at a time.
 */
export class Masker {
  private readonly pattern: RegExp | undefined;
  /** The forms as bytes (UTF-8, and the raw lines in UTF-16LE as Windows binaries hold strings), for files that are not text. */
  private readonly byteForms: Buffer[];

  constructor(secrets: Iterable<string>) {
    const forms = new Set<string>();
    for (const secret of secrets) {
      for (const line of secret.split(/\r?\n/)) {
        if (line.length >= MIN_SECRET_LENGTH) for (const form of secretForms(line)) forms.add(form);
      }
    }
    const sorted = [...forms].sort((a, b) => b.length - a.length);
    this.pattern = sorted.length > 0 ? new RegExp(sorted.map(escapeRegExp).join('|'), 'g') : undefined;
    const raw = [...secrets].flatMap((secret) => secret.split(/\r?\n/)).filter((line) => line.length >= MIN_SECRET_LENGTH);
    this.byteForms = [...sorted.map((form) => Buffer.from(form, 'utf8')), ...raw.map((line) => Buffer.from(line, 'utf16le'))];
  }

  /** The longest byte form: a stream scanned in chunks keeps this many bytes less one between them. */
  get longestBytes(): number {
    return this.byteForms.reduce((most, form) => Math.max(most, form.length), 0);
  }

  /** Whether `bytes` hold any form of any secret. */
  foundIn(bytes: Buffer): boolean {
    return this.byteForms.some((form) => bytes.includes(form));
  }

  get empty(): boolean {
    return this.pattern === undefined;
  }

  mask(text: string): string {
    return this.pattern ? text.replace(this.pattern, MASK) : text;
  }

  /** Masks every string inside a JSON-like value (task outputs), keys included. */
  maskValue<T>(value: T): T {
    if (!this.pattern) return value;
    if (typeof value === 'string') return this.mask(value) as T;
    if (Array.isArray(value)) return value.map((v) => this.maskValue(v)) as T;
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [this.mask(k), this.maskValue(v)])) as T;
    }
    return value;
  }
}

/**
 * The functions a definition template may call: Go's built-ins, the few Sprig helpers the corpus
 * uses, and Formicary's own helpers. None of them reads the environment, the file system or the
 * clock beyond the built-ins handed in; the table has no prototype, so `constructor` or
 * `__proto__` are unknown functions rather than a way out.
 */

/** Raised when a function cannot give a value here (a server-side helper without a server): treated like a missing variable. */
export class Unavailable extends Error {
  override readonly name = 'Unavailable';
}

export class TemplateFunctionError extends Error {
  override readonly name = 'TemplateFunctionError';
}

export type TemplateFunction = (...args: unknown[]) => unknown;

/** Go's notion of "empty": false, 0, nil, "" and empty collections. */
export function truthy(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === 0n || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

/** Text of a value as Go's fmt would print it for %v. */
export function printValue(value: unknown): string {
  if (value === undefined) return '<no value>';
  if (value === null) return '<nil>';
  if (Array.isArray(value)) return `[${value.map(printValue).join(' ')}]`;
  if (typeof value === 'object') {
    const entries = Object.keys(value as object)
      .sort()
      .map((key) => `${key}:${printValue((value as Record<string, unknown>)[key])}`);
    return `map[${entries.join(' ')}]`;
  }
  return String(value);
}

function compare(name: string, a: unknown, b: unknown): number {
  const numeric = (value: unknown) => typeof value === 'number' || typeof value === 'bigint';
  if (numeric(a) && numeric(b)) {
    if (typeof a === 'bigint' || typeof b === 'bigint') {
      const ints = Number.isInteger(Number(a)) && Number.isInteger(Number(b));
      if (ints) {
        const [x, y] = [BigInt(a as number), BigInt(b as number)];
        return x < y ? -1 : x > y ? 1 : 0;
      }
    }
    return Number(a) < Number(b) ? -1 : Number(a) > Number(b) ? 1 : 0;
  }
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean' && (name === 'eq' || name === 'ne')) return a === b ? 0 : 1;
  if ((a === null || b === null) && (name === 'eq' || name === 'ne')) return a === b ? 0 : 1;
  throw new TemplateFunctionError(`${name}: incompatible types for comparison: ${kind(a)} and ${kind(b)}`);
}

function kind(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'bigint') return 'number';
  return typeof value === 'object' ? 'map' : typeof value;
}

function integer(name: string, value: unknown): number {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : typeof value === 'bigint' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isFinite(number))
    throw new TemplateFunctionError(`${name}: expected a number, got ${kind(value)}`);
  return Math.trunc(number);
}

function text(name: string, value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  throw new TemplateFunctionError(`${name}: expected a string, got ${kind(value)}`);
}

/** The Go fmt verbs definitions use: %s %v %d %q %f %x %t %%, with an optional width/precision. */
export function sprintf(format: string, args: readonly unknown[]): string {
  let index = 0;
  return format.replace(
    /%([-+ #0]*)(\d+)?(?:\.(\d+))?([svdqfxXt%])/g,
    (_, flags: string, width: string | undefined, precision: string | undefined, verb: string) => {
      if (verb === '%') return '%';
      if (index >= args.length) return `%!${verb}(MISSING)`;
      const arg = args[index++];
      let out: string;
      switch (verb) {
        case 'd':
          out = typeof arg === 'bigint' ? arg.toString() : String(integer('printf', arg));
          break;
        case 'f':
          out = Number(arg).toFixed(precision === undefined ? 6 : Number(precision));
          break;
        case 'q':
          out = JSON.stringify(printValue(arg));
          break;
        case 'x':
        case 'X': {
          const hex = typeof arg === 'string' ? Buffer.from(arg).toString('hex') : BigInt(integer('printf', arg)).toString(16);
          out = verb === 'X' ? hex.toUpperCase() : hex;
          break;
        }
        default:
          out = printValue(arg);
          if (precision !== undefined && verb === 's') out = out.slice(0, Number(precision));
      }
      const size = width === undefined ? 0 : Number(width);
      return flags.includes('-') ? out.padEnd(size) : out.padStart(size, flags.includes('0') && verb !== 's' ? '0' : ' ');
    },
  );
}

function index(collection: unknown, ...keys: unknown[]): unknown {
  let value = collection;
  for (const key of keys) {
    if (Array.isArray(value)) {
      const position = integer('index', key);
      if (position < 0 || position >= value.length) throw new TemplateFunctionError(`index: index out of range: ${position}`);
      value = value[position];
    } else if (typeof value === 'object' && value !== null) {
      const name = text('index', key);
      value = Object.hasOwn(value, name) ? (value as Record<string, unknown>)[name] : undefined;
    } else if (value === undefined || value === null) {
      return undefined;
    } else {
      throw new TemplateFunctionError(`index: can't index item of type ${kind(value)}`);
    }
  }
  return value;
}

function length(value: unknown): number {
  if (typeof value === 'string' || Array.isArray(value)) return value.length;
  if (typeof value === 'object' && value !== null) return Object.keys(value).length;
  throw new TemplateFunctionError(`len: can't take the length of ${kind(value)}`);
}

const MAX_ITERATE = 10_000;

/** Go's built-ins plus the helpers Formicary registers (Sprig's names and Formicary's own). */
const FUNCTIONS: Readonly<Record<string, TemplateFunction>> = Object.assign(Object.create(null) as Record<string, TemplateFunction>, {
  eq: (a: unknown, ...rest: unknown[]) => {
    if (rest.length === 0) throw new TemplateFunctionError('eq: missing argument for comparison');
    return rest.some((b) => compare('eq', a, b) === 0);
  },
  ne: (a: unknown, b: unknown) => compare('ne', a, b) !== 0,
  lt: (a: unknown, b: unknown) => compare('lt', a, b) < 0,
  le: (a: unknown, b: unknown) => compare('le', a, b) <= 0,
  gt: (a: unknown, b: unknown) => compare('gt', a, b) > 0,
  ge: (a: unknown, b: unknown) => compare('ge', a, b) >= 0,
  not: (a: unknown) => !truthy(a),
  len: length,
  index,
  print: (...args: unknown[]) => args.map(printValue).join(''),
  println: (...args: unknown[]) => `${args.map(printValue).join(' ')}\n`,
  printf: (format: unknown, ...args: unknown[]) => sprintf(text('printf', format), args),
  urlquery: (...args: unknown[]) => encodeURIComponent(args.map(printValue).join('')),
  // Sprig helpers the corpus calls.
  default: (fallback: unknown, value?: unknown) => (truthy(value) ? value : fallback),
  // Formicary's helpers take Go's strings order (text first): `trimPrefix .Body.ref "refs/heads/"`, like hasPrefix.
  trimPrefix: (value: unknown, prefix: unknown) => {
    const [s, p] = [text('trimPrefix', value), text('trimPrefix', prefix)];
    return s.startsWith(p) ? s.slice(p.length) : s;
  },
  trimSuffix: (value: unknown, suffix: unknown) => {
    const [s, p] = [text('trimSuffix', value), text('trimSuffix', suffix)];
    return p !== '' && s.endsWith(p) ? s.slice(0, -p.length) : s;
  },
  hasPrefix: (value: unknown, prefix: unknown) => text('hasPrefix', value).startsWith(text('hasPrefix', prefix)),
  hasSuffix: (value: unknown, suffix: unknown) => text('hasSuffix', value).endsWith(text('hasSuffix', suffix)),
  contains: (part: unknown, value: unknown) => text('contains', value).includes(text('contains', part)),
  trim: (value: unknown) => text('trim', value).trim(),
  upper: (value: unknown) => text('upper', value).toUpperCase(),
  lower: (value: unknown) => text('lower', value).toLowerCase(),
  replace: (from: unknown, to: unknown, value: unknown) => text('replace', value).replaceAll(text('replace', from), text('replace', to)),
  quote: (...values: unknown[]) => values.map((value) => JSON.stringify(printValue(value))).join(' '),
  atoi: (value: unknown) => {
    const parsed = Number.parseInt(text('atoi', value), 10);
    return Number.isNaN(parsed) ? 0 : parsed;
  },
  toJson: (value: unknown) => JSON.stringify(value, (_, item) => (typeof item === 'bigint' ? item.toString() : item)),
  // A cache key's checksum needs the file, which only the ant has: the action is written back as it was, for the ant to resolve.
  checksum: (file: unknown) => `{{checksum ${JSON.stringify(text('checksum', file))}}}`,
  // Formicary's helpers.
  Add: (a: unknown, b: unknown) => integer('Add', a) + integer('Add', b),
  Iterate: (count: unknown) => {
    const n = integer('Iterate', count);
    if (n > MAX_ITERATE) throw new TemplateFunctionError(`Iterate: at most ${MAX_ITERATE} items, got ${n}`);
    return Array.from({ length: Math.max(0, n) }, (_, item) => item);
  },
  Random: (min: unknown, max: unknown) => {
    const [low, high] = [integer('Random', min), integer('Random', max)];
    return high <= low ? low : low + Math.floor(Math.random() * (high - low));
  },
  Unescape: (value: unknown) =>
    printValue(value)
      .replaceAll('&lt;', '<')
      .replaceAll('&gt;', '>')
      .replaceAll('&#34;', '"')
      .replaceAll('&#39;', "'")
      .replaceAll('&amp;', '&'),
});

/**
 * Functions that ask Formicary's server about other jobs. A definition is rendered where no such
 * answer exists (validation), so they count as missing values unless the caller provides them.
 */
export const SERVER_FUNCTIONS = ['CountByJobTypeAndState', 'SubmitJobsFromJSON'] as const;

/** Functions Formicary offers but Myrmex never will, and why. */
const REFUSED: Readonly<Record<string, string>> = {
  env: "templates cannot read the queen's environment: pass the value as a request param",
  expandenv: "templates cannot read the queen's environment: pass the value as a request param",
  readFile: 'templates cannot read files on the queen',
};

export function lookupFunction(name: string, extra: Readonly<Record<string, TemplateFunction>>): TemplateFunction {
  if (Object.hasOwn(extra, name)) return extra[name]!;
  const builtIn = FUNCTIONS[name];
  if (builtIn !== undefined) return builtIn;
  if ((SERVER_FUNCTIONS as readonly string[]).includes(name)) {
    return () => {
      throw new Unavailable(`${name} needs the job history of a running queen`);
    };
  }
  const why = Object.hasOwn(REFUSED, name) ? `: ${REFUSED[name]}` : '';
  throw new TemplateFunctionError(`function "${name}" not defined${why}`);
}

export function isKnownFunction(name: string, extra: Readonly<Record<string, TemplateFunction>>): boolean {
  return Object.hasOwn(extra, name) || FUNCTIONS[name] !== undefined || (SERVER_FUNCTIONS as readonly string[]).includes(name);
}

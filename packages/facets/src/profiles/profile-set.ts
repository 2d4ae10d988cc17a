import { LineCounter, parseDocument } from 'yaml';
import { ProfileError, type SourceLocation } from './errors.js';

type Path = readonly (string | number)[];

/** One facet a profile asks for, with where it was written. */
export interface FacetSpec {
  readonly type: string;
  readonly config: unknown;
  /** `profiles.<name>.facets[<i>]` */
  readonly field: string;
  readonly location: SourceLocation | undefined;
}

/** A profile with its inheritance applied. */
export interface Profile {
  readonly name: string;
  /** The inheritance chain from the root ancestor to this profile. */
  readonly chain: readonly string[];
  readonly facets: readonly FacetSpec[];
}

interface RawProfile {
  readonly inherits: string | undefined;
  readonly facets: readonly FacetSpec[];
}

type Locate = (path: Path) => SourceLocation | undefined;

function fieldOf(path: Path): string {
  return path.reduce<string>((text, part) => (typeof part === 'number' ? `${text}[${part}]` : text === '' ? part : `${text}.${part}`), '');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Named facet profiles, loaded from YAML or JSON (JSON is read by the same YAML 1.2 parser), with
 * single inheritance: a child keeps its parent's facets, replaces those it names again (in the
 * parent's position) and appends the rest. Everything is validated on load; errors carry the
 * file, line and column of the offending value.
 *
 * ```yaml
 * profiles:
 *   manager:
 *     facets:
 *       - type: permission
 *         config: { roles: [manager], grants: { manager: ["account:*"] } }
 *   admin:
 *     inherits: manager
 *     facets:
 *       - type: audit
 * ```
 */
export class ProfileSet {
  readonly #profiles: ReadonlyMap<string, RawProfile>;
  readonly #locate: Locate;

  private constructor(data: unknown, locate: Locate) {
    this.#locate = locate;
    this.#profiles = this.#read(data);
    for (const name of this.#profiles.keys()) this.resolve(name);
  }

  /** Parses YAML or JSON text; `source` (a file name) prefixes every error. */
  static parse(text: string, options: { readonly source?: string } = {}): ProfileSet {
    if (typeof text !== 'string') throw new TypeError('ProfileSet.parse: text must be a string');
    const source = options.source ?? '<profiles>';
    const lineCounter = new LineCounter();
    const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
    const at = (offset: number): SourceLocation => {
      const { line, col } = lineCounter.linePos(offset);
      return { source, line, column: col };
    };
    const [problem] = doc.errors;
    if (problem !== undefined) throw new ProfileError('(document)', problem.message.split('\n')[0]!, at(problem.pos[0]));
    // A missing key has no node, so the nearest existing ancestor gives the position.
    const locate: Locate = (path) => {
      for (let length = path.length; length >= 0; length--) {
        const node = length === 0 ? doc.contents : doc.getIn(path.slice(0, length), true);
        const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
        if (range !== undefined) return at(range[0]);
      }
      return undefined;
    };
    return new ProfileSet(doc.toJS(), locate);
  }

  /** Reads profiles from an already parsed object; errors name the field only. */
  static from(data: unknown): ProfileSet {
    return new ProfileSet(data, () => undefined);
  }

  names(): string[] {
    return [...this.#profiles.keys()];
  }

  /** The profile with its inherited facets; throws ProfileError for an unknown name. */
  resolve(name: string): Profile {
    return this.#resolve(name, []);
  }

  #fail(path: Path, detail: string): never {
    throw new ProfileError(fieldOf(path), detail, this.#locate(path));
  }

  #resolve(name: string, seen: readonly string[]): Profile {
    const raw = this.#profiles.get(name);
    if (raw === undefined) {
      throw new ProfileError(
        'profiles',
        `unknown profile '${name}' (known: ${this.names().join(', ') || 'none'})`,
        this.#locate(['profiles']),
      );
    }
    if (seen.includes(name)) this.#fail(['profiles', name, 'inherits'], `inheritance cycle ${[...seen, name].join(' -> ')}`);
    if (raw.inherits === undefined) return { name, chain: [name], facets: raw.facets };
    if (!this.#profiles.has(raw.inherits)) this.#fail(['profiles', name, 'inherits'], `inherits unknown profile '${raw.inherits}'`);
    const parent = this.#resolve(raw.inherits, [...seen, name]);
    const own = new Map(raw.facets.map((spec) => [spec.type, spec]));
    const facets = parent.facets.map((spec) => own.get(spec.type) ?? spec);
    const inherited = new Set(parent.facets.map((spec) => spec.type));
    facets.push(...raw.facets.filter((spec) => !inherited.has(spec.type)));
    return { name, chain: [...parent.chain, name], facets };
  }

  #read(data: unknown): Map<string, RawProfile> {
    if (!isRecord(data)) this.#fail([], 'the document must be a mapping with a `profiles` key');
    const extra = Object.keys(data).filter((key) => key !== 'profiles');
    if (extra.length > 0) this.#fail([extra[0]!], 'unknown top-level key (only `profiles` is allowed)');
    const profiles = data.profiles;
    if (!isRecord(profiles)) this.#fail(['profiles'], 'must be a mapping of profile name to profile');
    return new Map(Object.entries(profiles).map(([name, value]) => [name, this.#readProfile(name, value)]));
  }

  #readProfile(name: string, value: unknown): RawProfile {
    const path = ['profiles', name];
    if (value === null) return { inherits: undefined, facets: [] };
    if (!isRecord(value)) this.#fail(path, 'must be a mapping with `facets` and optionally `inherits`');
    const extra = Object.keys(value).filter((key) => key !== 'facets' && key !== 'inherits');
    if (extra.length > 0) this.#fail([...path, extra[0]!], 'unknown key (allowed: inherits, facets)');
    const { inherits, facets = [] } = value;
    if (inherits !== undefined && (typeof inherits !== 'string' || inherits.length === 0)) {
      this.#fail([...path, 'inherits'], 'must be the name of another profile');
    }
    if (!Array.isArray(facets)) this.#fail([...path, 'facets'], 'must be a list of { type, config }');
    const specs = facets.map((item: unknown, index) => this.#readFacet([...path, 'facets', index], item));
    specs.forEach((spec, index) => {
      if (specs.findIndex((other) => other.type === spec.type) !== index) {
        this.#fail([...path, 'facets', index, 'type'], `facet type '${spec.type}' is listed twice in profile '${name}'`);
      }
    });
    return { inherits: inherits as string | undefined, facets: specs };
  }

  #readFacet(path: Path, item: unknown): FacetSpec {
    if (!isRecord(item)) this.#fail(path, 'must be a mapping with `type` and optionally `config`');
    const extra = Object.keys(item).filter((key) => key !== 'type' && key !== 'config');
    if (extra.length > 0) this.#fail([...path, extra[0]!], 'unknown key (allowed: type, config)');
    if (typeof item.type !== 'string' || item.type.length === 0)
      this.#fail([...path, 'type'], 'must be a non-empty string naming a registered facet');
    return { type: item.type, config: item.config, field: fieldOf(path), location: this.#locate(path) };
  }
}

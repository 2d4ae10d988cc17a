import {
  AmbiguousFacetError,
  DuplicateFacetError,
  FacetError,
  FacetInUseError,
  MissingDependencyError,
  MissingFacetError,
} from './errors.js';
import { bindFacet, unbindFacet } from './facet.js';
import { assertFacetKey, type ConstructibleFacet, type FacetKey, type FacetOf, type FacetToken, keyName } from './keys.js';
import type { FacetRegistry } from './registry.js';

export interface FacetedOptions {
  /** Where `get` finds factories for facets that are not attached yet, and `toJSON` finds serialisers. */
  readonly registry?: FacetRegistry;
}

export interface FacetEntry {
  readonly key: FacetKey;
  readonly facet: object;
}

/** What `toJSON` produces and `fromJSON` reads. */
export interface FacetedJson {
  readonly core: unknown;
  readonly facets: readonly { readonly type: string; readonly data: unknown }[];
}

interface Attached {
  readonly facet: object;
  readonly requires: readonly FacetKey[];
}

const wrappers = new WeakMap<object, FacetedObject<object>>();

/** Reads a class's (or a facet's constructor's) static `requires` list and checks that it holds keys. */
function declaredRequires(source: unknown, owner: FacetKey): readonly FacetKey[] {
  const list = (source as { requires?: unknown } | null | undefined)?.requires;
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw new TypeError(`${keyName(owner)}.requires must be an array of facet keys`);
  list.forEach((dep, index) => {
    assertFacetKey(dep, `${keyName(owner)}.requires[${index}]`);
  });
  return list as FacetKey[];
}

function assertFacetObject(facet: unknown, key: FacetKey): asserts facet is object {
  if (facet === null || (typeof facet !== 'object' && typeof facet !== 'function')) {
    throw new TypeError(`facet for ${keyName(key)} must be an object, got ${facet === null ? 'null' : typeof facet}`);
  }
}

/**
 * A core object plus the facets attached to it at run time. There is at most one wrapper per
 * core object: `Facets.of(core)` returns it, and constructing a second one is refused, so every
 * facet's `owner` leads back to one set of facets.
 */
export class FacetedObject<TCore extends object> {
  readonly core: TCore;
  readonly registry: FacetRegistry | undefined;
  readonly #attached = new Map<FacetKey, Attached>();
  readonly #creating = new Set<FacetKey>();
  /** The keys attached during the outermost running `transaction`, in attach order. */
  #journal: FacetKey[] | undefined;
  #revision = 0;

  constructor(core: TCore, options: FacetedOptions = {}) {
    if (core === null || (typeof core !== 'object' && typeof core !== 'function')) {
      throw new TypeError(`core must be an object, got ${core === null ? 'null' : typeof core}`);
    }
    if (wrappers.has(core)) throw new FacetError('this core object already has a FacetedObject; use Facets.of(core)');
    this.core = core;
    this.registry = options.registry;
    wrappers.set(core, this as FacetedObject<object>);
  }

  /** The wrapper of `core`, created on first use. */
  static of<TCore extends object>(core: TCore, options: FacetedOptions = {}): FacetedObject<TCore> {
    const existing = wrappers.get(core) as FacetedObject<TCore> | undefined;
    if (existing === undefined) return new FacetedObject(core, options);
    if (options.registry !== undefined && options.registry !== existing.registry) {
      throw new FacetError('this core object already has a FacetedObject with a different registry');
    }
    return existing;
  }

  /** The wrapper of `core` if one exists; never creates one. */
  static existing<TCore extends object>(core: TCore): FacetedObject<TCore> | undefined {
    return wrappers.get(core) as FacetedObject<TCore> | undefined;
  }

  /** Rebuilds a faceted object from `toJSON` output, creating each facet through the registry's `deserialize`. */
  static fromJSON<TCore extends object = Record<string, unknown>>(data: unknown, registry: FacetRegistry): FacetedObject<TCore> {
    const json = data as Partial<FacetedJson> | null;
    if (json === null || typeof json !== 'object') throw new TypeError('fromJSON: data must be an object');
    if (json.core === null || typeof json.core !== 'object') throw new TypeError('fromJSON: data.core must be an object');
    if (!Array.isArray(json.facets)) throw new TypeError('fromJSON: data.facets must be an array');
    const plan = json.facets.map((entry: unknown, index) => {
      const field = `data.facets[${index}]`;
      const { type, data: facetData } = (entry ?? {}) as { type?: unknown; data?: unknown };
      if (typeof type !== 'string') throw new TypeError(`fromJSON: ${field}.type must be a string`);
      const registered = registry.byName(type);
      if (registered === undefined) throw new FacetError(`fromJSON: ${field}.type '${type}' is not registered`);
      const { deserialize } = registered.definition;
      if (deserialize === undefined) throw new FacetError(`fromJSON: ${field}: facet '${type}' does not declare how to deserialise`);
      return { key: registered.key, facet: deserialize(facetData) };
    });
    const faceted = new FacetedObject(json.core as TCore, { registry });
    try {
      for (const { key, facet } of plan) faceted.adopt(key, facet);
    } catch (error) {
      // Nothing half-restored stays reachable through Facets.of(core).
      wrappers.delete(json.core);
      throw error;
    }
    return faceted;
  }

  /** Increases on every attach and detach; caches keyed on the set of facets compare it. */
  get revision(): number {
    return this.#revision;
  }

  /** Constructs `FacetClass` with `args` and attaches it; a token key takes the facet instance itself. */
  attach<F extends object, A extends unknown[]>(FacetClass: ConstructibleFacet<F, A>, ...args: A): F;
  attach<F extends object>(token: FacetToken<F>, facet: F): F;
  attach(key: FacetKey, ...args: unknown[]): object {
    assertFacetKey(key);
    if (typeof key === 'symbol') return this.adopt(key, args[0] as object);
    return this.transaction(() => {
      this.#refuseDuplicate(key);
      const requires = declaredRequires(key, key);
      this.#ensureDependencies(key, requires);
      const facet: unknown = new (key as unknown as new (...a: unknown[]) => object)(...args);
      return this.#insert(key, facet, requires);
    });
  }

  /** Attaches an already built facet under `key`. With a class key the facet must be an instance of it. */
  adopt<K extends FacetKey>(key: K, facet: FacetOf<K>): FacetOf<K>;
  adopt(key: FacetKey, facet: object): object {
    assertFacetKey(key);
    assertFacetObject(facet, key);
    if (typeof key === 'function' && !(facet instanceof key)) {
      throw new TypeError(`facet for ${keyName(key)} must be an instance of ${keyName(key)}`);
    }
    return this.transaction(() => {
      this.#refuseDuplicate(key);
      const requires = declaredRequires(typeof key === 'function' ? key : facet.constructor, key);
      this.#ensureDependencies(key, requires);
      return this.#insert(key, facet, requires);
    });
  }

  /**
   * Runs `work` all or nothing: if it throws, every facet attached during it (dependencies the
   * registry created lazily included) is detached again, newest first, and the error is rethrown
   * unchanged. The rollback never throws: an `onDetach` that fails is still detached, and its
   * error is added to the original error's `suppressed` list instead of replacing it. Nested
   * transactions join the outermost one.
   */
  transaction<R>(work: () => R): R {
    if (typeof work !== 'function') throw new TypeError('transaction: work must be a function');
    if (this.#journal !== undefined) return work();
    const journal: FacetKey[] = [];
    this.#journal = journal;
    try {
      return work();
    } catch (error) {
      this.#rollback(journal, error);
      throw error;
    } finally {
      this.#journal = undefined;
    }
  }

  /**
   * The facet attached under `key`; else, for a class key, the one attached facet that is an
   * instance of it (a subclass: lookup by interface, as in the Extension Object pattern), or
   * AmbiguousFacetError when several are; else one the registry creates lazily; else undefined.
   */
  get<F extends object>(key: FacetKey<F>): F | undefined {
    assertFacetKey(key);
    const entry = this.#attached.get(key);
    if (entry !== undefined) return entry.facet as F;
    const derived = this.#derived(key);
    if (derived !== undefined) return derived as F;
    return this.#createLazily(key) as F | undefined;
  }

  /** Like `get`, but throws MissingFacetError instead of returning undefined. */
  require<F extends object>(key: FacetKey<F>): F {
    const facet = this.get(key);
    if (facet === undefined) throw new MissingFacetError(key);
    return facet;
  }

  /**
   * Whether a facet is attached now under `key` or, for a class key, as an instance of it (a
   * registered but not yet created facet does not count).
   */
  has(key: FacetKey): boolean {
    assertFacetKey(key);
    return this.#attached.has(key) || (typeof key === 'function' && this.#instancesOf(key).length > 0);
  }

  /** Runs `fn` with the required facet and returns its result. */
  with<F extends object, R>(key: FacetKey<F>, fn: (facet: F) => R): R {
    if (typeof fn !== 'function') throw new TypeError('with: fn must be a function');
    return fn(this.require(key));
  }

  /**
   * Detaches a facet; false if it was not attached. Refused with FacetInUseError while another
   * attached facet requires it; `onDetach` runs first and may veto by throwing.
   */
  detach(key: FacetKey): boolean {
    assertFacetKey(key);
    const entry = this.#attached.get(key);
    if (entry === undefined) return false;
    const dependents = [...this.#attached].filter(([, other]) => other.requires.includes(key)).map(([k]) => k);
    if (dependents.length > 0) throw new FacetInUseError(key, dependents);
    callHook(entry.facet, 'onDetach', this);
    this.#attached.delete(key);
    unbindFacet(entry.facet);
    this.#revision++;
    return true;
  }

  /** The attached facets in attach order. */
  facets(): FacetEntry[] {
    return [...this.#attached].map(([key, { facet }]) => ({ key, facet }));
  }

  /** The core and every facet whose registry definition declares `serialize`; other facets are transient and left out. */
  toJSON(): FacetedJson {
    const facets: { type: string; data: unknown }[] = [];
    for (const [key, { facet }] of this.#attached) {
      const definition = this.registry?.definition(key);
      if (definition?.serialize === undefined || definition.name === undefined) continue;
      facets.push({ type: definition.name, data: definition.serialize(facet) });
    }
    return { core: this.core, facets };
  }

  #instancesOf(base: FacetKey): [FacetKey, Attached][] {
    if (typeof base !== 'function') return [];
    return [...this.#attached].filter(([, entry]) => entry.facet instanceof base);
  }

  #derived(key: FacetKey): object | undefined {
    const matches = this.#instancesOf(key);
    if (matches.length > 1)
      throw new AmbiguousFacetError(
        key,
        matches.map(([k]) => k),
      );
    return matches[0]?.[1].facet;
  }

  #rollback(journal: readonly FacetKey[], error: unknown): void {
    const failures: unknown[] = [];
    for (const key of [...journal].reverse()) {
      const entry = this.#attached.get(key);
      if (entry === undefined) continue;
      try {
        callHook(entry.facet, 'onDetach', this);
      } catch (failure) {
        failures.push(failure);
      }
      this.#attached.delete(key);
      unbindFacet(entry.facet);
      this.#revision++;
    }
    if (failures.length > 0 && error !== null && typeof error === 'object') {
      const previous = (error as { suppressed?: unknown }).suppressed;
      Object.defineProperty(error, 'suppressed', {
        value: [...(Array.isArray(previous) ? previous : []), ...failures],
        configurable: true,
        writable: true,
      });
    }
  }

  #refuseDuplicate(key: FacetKey): void {
    if (this.#attached.has(key)) throw new DuplicateFacetError(key);
  }

  #ensureDependencies(key: FacetKey, requires: readonly FacetKey[]): void {
    const missing = requires.filter((dep) => !this.#attached.has(dep) && this.#createLazily(dep) === undefined);
    if (missing.length > 0) throw new MissingDependencyError(key, missing);
  }

  #createLazily(key: FacetKey): object | undefined {
    const definition = this.registry?.definition(key);
    if (definition === undefined || definition.lazy === false || this.#creating.has(key)) return undefined;
    this.#creating.add(key);
    try {
      const facet = definition.create(undefined, this as FacetedObject<object>);
      return this.adopt(key as FacetKey<object>, facet);
    } finally {
      this.#creating.delete(key);
    }
  }

  #insert(key: FacetKey, facet: unknown, requires: readonly FacetKey[]): object {
    assertFacetObject(facet, key);
    bindFacet(facet, this as FacetedObject<object>);
    this.#attached.set(key, { facet, requires });
    this.#revision++;
    try {
      callHook(facet, 'onAttach', this);
    } catch (error) {
      this.#attached.delete(key);
      unbindFacet(facet);
      this.#revision++;
      throw error;
    }
    this.#journal?.push(key);
    return facet;
  }
}

function callHook(facet: object, hook: 'onAttach' | 'onDetach', host: FacetedObject<object>): void {
  const fn = (facet as Record<string, unknown>)[hook];
  if (typeof fn === 'function') fn.call(facet, host);
}

/** Voyager's entry point: `Facets.of(core)` is the one faceted wrapper of `core`. */
export const Facets = {
  of: FacetedObject.of,
  existing: FacetedObject.existing,
} as const;

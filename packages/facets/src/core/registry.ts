import { FacetError } from './errors.js';
import type { FacetedObject } from './faceted-object.js';
import { assertFacetKey, type FacetKey, type FacetOf, keyName } from './keys.js';

/**
 * How a registry makes, configures and (optionally) persists one kind of facet.
 * `config` is undefined when the facet is created lazily by `get`.
 */
export interface FacetDefinition<F extends object, C = unknown> {
  /** The name profiles and JSON use for this facet; unique within a registry. Names never key facets on objects. */
  readonly name?: string;
  readonly create: (config: C | undefined, host: FacetedObject<object>) => F;
  /** Whether `get` may create the facet on first use (Voyager's lazy aggregation). Default true. */
  readonly lazy?: boolean;
  /** Validates a profile's raw config; throw an Error whose message names the bad field. */
  readonly parseConfig?: (raw: unknown) => C;
  readonly serialize?: (facet: F) => unknown;
  readonly deserialize?: (data: unknown) => F;
}

export type FacetFactory<F extends object> = (host: FacetedObject<object>) => F;

export interface RegisteredFacet {
  readonly key: FacetKey;
  readonly definition: FacetDefinition<object>;
}

/** Maps facet keys to factories: the source of lazily created facets, profiles and deserialisation. */
export class FacetRegistry {
  readonly #byKey = new Map<FacetKey, FacetDefinition<object>>();
  readonly #byName = new Map<string, FacetKey>();

  /** Registers a facet: a plain factory `(host) => facet`, or a full definition. */
  register<K extends FacetKey, C = unknown>(key: K, definition: FacetDefinition<FacetOf<K>, C> | FacetFactory<FacetOf<K>>): this {
    assertFacetKey(key);
    if (this.#byKey.has(key)) throw new FacetError(`facet ${keyName(key)} is already registered`);
    const def: FacetDefinition<object> =
      typeof definition === 'function'
        ? { create: (_config, host) => (definition as FacetFactory<object>)(host) }
        : (definition as unknown as FacetDefinition<object>);
    if (typeof def.create !== 'function') throw new TypeError(`register(${keyName(key)}): definition.create must be a function`);
    if (def.name !== undefined) {
      if (typeof def.name !== 'string' || def.name.length === 0) {
        throw new TypeError(`register(${keyName(key)}): definition.name must be a non-empty string`);
      }
      const taken = this.#byName.get(def.name);
      if (taken !== undefined) throw new FacetError(`facet name '${def.name}' is already registered for ${keyName(taken)}`);
      this.#byName.set(def.name, key);
    }
    this.#byKey.set(key, def);
    return this;
  }

  has(key: FacetKey): boolean {
    return this.#byKey.has(key);
  }

  definition<K extends FacetKey>(key: K): FacetDefinition<FacetOf<K>> | undefined {
    return this.#byKey.get(key) as FacetDefinition<FacetOf<K>> | undefined;
  }

  byName(name: string): RegisteredFacet | undefined {
    const key = this.#byName.get(name);
    if (key === undefined) return undefined;
    return { key, definition: this.#byKey.get(key)! };
  }

  /** The registered name of a key, if it has one. */
  nameOf(key: FacetKey): string | undefined {
    return this.#byKey.get(key)?.name;
  }

  names(): string[] {
    return [...this.#byName.keys()];
  }
}

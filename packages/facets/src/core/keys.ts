declare const facetType: unique symbol;

/**
 * A symbol that names a facet and carries its type. Made with `facetToken`, which calls
 * `Symbol()` (never `Symbol.for`), so two libraries that pick the same description still get
 * different keys and cannot collide.
 */
export type FacetToken<F> = symbol & { readonly [facetType]?: F };

/** A facet class used as its own key. Abstract classes may be keys; only concrete ones can be constructed by `attach`. */
// biome-ignore lint/suspicious/noExplicitAny: constructor parameter lists are contravariant; any is the only type every class fits.
export type FacetClass<F extends object = object> = abstract new (...args: any[]) => F;

/** A concrete facet class with its constructor arguments, as `attach(FacetClass, ...args)` takes it. */
export type ConstructibleFacet<F extends object, A extends unknown[]> = new (...args: A) => F;

/** How facets are keyed: by class or by a token symbol, never by a bare string. */
export type FacetKey<F extends object = object> = FacetClass<F> | FacetToken<F>;

/** The facet type a key stands for. */
export type FacetOf<K> = K extends FacetToken<infer F> ? F : K extends abstract new (...args: never) => infer F ? F : never;

/** Makes a new, unique facet key. The description is only for error messages. */
export function facetToken<F extends object>(description: string): FacetToken<F> {
  if (typeof description !== 'string' || description.length === 0) {
    throw new TypeError('facetToken: description must be a non-empty string');
  }
  return Symbol(description) as FacetToken<F>;
}

/** Rejects anything that is not a class or a unique symbol, so a string (or a Symbol.for of one) cannot slip in. */
export function assertFacetKey(key: unknown, field = 'key'): asserts key is FacetKey {
  if (typeof key === 'symbol') {
    // Symbol.for keys live in a process-wide registry by string: two libraries asking for the same string collide.
    const shared = Symbol.keyFor(key);
    if (shared !== undefined)
      throw new TypeError(
        `${field} must be a unique facet token, got Symbol.for('${shared}'), which any library can re-create; use facetToken()`,
      );
    return;
  }
  if (typeof key === 'function') return;
  const shown = typeof key === 'string' ? `the string '${key}'` : String(key);
  throw new TypeError(`${field} must be a facet class or a facet token symbol, got ${shown}`);
}

/** A readable name for a key in error messages and audit trails. */
export function keyName(key: FacetKey): string {
  if (typeof key === 'symbol') return `Symbol(${key.description ?? ''})`;
  return key.name || '(anonymous facet class)';
}

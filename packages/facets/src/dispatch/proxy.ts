import { AmbiguousMethodError } from '../core/errors.js';
import { Facet } from '../core/facet.js';
import { FacetedObject } from '../core/faceted-object.js';
import type { FacetKey } from '../core/keys.js';

/** Cache counters of one object's dispatch proxy. */
export interface DispatchStats {
  readonly hits: number;
  readonly misses: number;
  /** How many times an attach or detach emptied the method cache. */
  readonly invalidations: number;
  /** Method names currently cached (including names known to have no provider). */
  readonly cached: number;
}

type Resolution = { readonly fn: (...args: unknown[]) => unknown } | { readonly ambiguous: readonly FacetKey[] } | null;

interface DispatchState {
  readonly proxy: object;
  readonly methods: Map<string, Resolution>;
  revision: number;
  hits: number;
  misses: number;
  invalidations: number;
}

/** Names that belong to the facet machinery or to every object, never dispatched to a facet. */
const RESERVED = new Set([
  ...Object.getOwnPropertyNames(Object.prototype),
  ...Object.getOwnPropertyNames(Facet.prototype),
  'onAttach',
  'onDetach',
  'toJSON',
]);

const states = new WeakMap<FacetedObject<object>, DispatchState>();

function resolve(faceted: FacetedObject<object>, name: string): Resolution {
  const providers = faceted.facets().filter(({ facet }) => typeof (facet as Record<string, unknown>)[name] === 'function');
  if (providers.length === 0) return null;
  if (providers.length > 1) return { ambiguous: providers.map((p) => p.key) };
  const { facet } = providers[0]!;
  const method = (facet as Record<string, (...args: unknown[]) => unknown>)[name]!;
  return { fn: (...args: unknown[]) => method.apply(facet, args) };
}

function lookup(state: DispatchState, faceted: FacetedObject<object>, name: string): Resolution {
  if (state.revision !== faceted.revision) {
    if (state.methods.size > 0) state.invalidations++;
    state.methods.clear();
    state.revision = faceted.revision;
  }
  const cached = state.methods.get(name);
  if (cached !== undefined) {
    state.hits++;
    return cached;
  }
  state.misses++;
  const found = resolve(faceted, name);
  state.methods.set(name, found);
  return found;
}

function provided(resolution: Resolution, name: string): ((...args: unknown[]) => unknown) | undefined {
  if (resolution === null) return undefined;
  if ('ambiguous' in resolution) throw new AmbiguousMethodError(name, resolution.ambiguous);
  return resolution.fn;
}

/**
 * A Proxy over the core that also answers the methods of its facets: `dispatch(obj).deposit(5)`
 * calls `deposit` on the one attached facet that has it. The core's own properties win. Each
 * object keeps a cache of method name to facet; any attach or detach (seen through
 * `revision`) empties it, so a detached facet is never called. A name provided by two facets
 * throws AmbiguousMethodError rather than picking one.
 */
export function dispatch<TCore extends object, TMethods extends object = Record<string, (...args: never[]) => unknown>>(
  faceted: FacetedObject<TCore>,
): TCore & TMethods {
  if (!(faceted instanceof FacetedObject)) throw new TypeError('dispatch: expected a FacetedObject (Facets.of(core))');
  const host = faceted as FacetedObject<object>;
  const existing = states.get(host);
  if (existing !== undefined) return existing.proxy as TCore & TMethods;
  const state: DispatchState = {
    methods: new Map(),
    revision: host.revision,
    hits: 0,
    misses: 0,
    invalidations: 0,
    proxy: new Proxy(host.core, {
      get(target, property, receiver) {
        if (typeof property === 'symbol' || property in target || RESERVED.has(property)) return Reflect.get(target, property, receiver);
        return provided(lookup(state, host, property), property);
      },
      has(target, property) {
        if (typeof property === 'symbol' || property in target || RESERVED.has(property)) return Reflect.has(target, property);
        return lookup(state, host, property) !== null;
      },
    }),
  };
  states.set(host, state);
  return state.proxy as TCore & TMethods;
}

/** The method-cache counters of `faceted`'s dispatch proxy (all zero before `dispatch` is called). */
export function dispatchStats<TCore extends object>(faceted: FacetedObject<TCore>): DispatchStats {
  const state = states.get(faceted as FacetedObject<object>);
  if (state === undefined) return { hits: 0, misses: 0, invalidations: 0, cached: 0 };
  const stale = state.revision !== faceted.revision;
  return { hits: state.hits, misses: state.misses, invalidations: state.invalidations, cached: stale ? 0 : state.methods.size };
}

import { FacetError } from './errors.js';
import type { FacetedObject } from './faceted-object.js';
import type { FacetKey } from './keys.js';

const hosts = new WeakMap<object, FacetedObject<object>>();

/** Links a facet to the object it is attached to; a facet belongs to at most one object at a time. */
export function bindFacet(facet: object, host: FacetedObject<object>): void {
  const current = hosts.get(facet);
  if (current !== undefined && current !== host) {
    throw new FacetError('this facet instance is already attached to another object; create one facet per object');
  }
  hosts.set(facet, host);
}

export function unbindFacet(facet: object): void {
  hosts.delete(facet);
}

/** The faceted object a facet is attached to, or undefined while it is detached. */
export function hostOf<TCore extends object = object>(facet: object): FacetedObject<TCore> | undefined {
  return hosts.get(facet) as FacetedObject<TCore> | undefined;
}

/**
 * Optional base class for facets. It gives the facet its `owner` (the core object, identical
 * for every facet on that object) and `faceted` (the wrapper, to reach sibling facets), and
 * declares the lifecycle hooks. Facets need not extend it: any object works, and hooks named
 * `onAttach`/`onDetach` are called when present.
 */
export abstract class Facet<TCore extends object = object> {
  /** Facet keys that must be attached before this facet, and that cannot be detached while it is. */
  static readonly requires: readonly FacetKey[] = [];

  /** Called after the facet is attached; throwing undoes the attach. */
  onAttach?(owner: FacetedObject<TCore>): void;
  /** Called before the facet is detached; throwing keeps it attached. */
  onDetach?(owner: FacetedObject<TCore>): void;

  get attached(): boolean {
    return hosts.has(this);
  }

  /** The faceted object this facet is attached to. */
  get faceted(): FacetedObject<TCore> {
    const host = hostOf<TCore>(this);
    if (host === undefined) throw new FacetError(`${this.constructor.name} is not attached to any object`);
    return host;
  }

  /** The core object: the same object for every facet attached to it (COM's identity rule). */
  get owner(): TCore {
    return this.faceted.core;
  }
}

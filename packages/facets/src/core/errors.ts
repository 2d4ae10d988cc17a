import { type FacetKey, keyName } from './keys.js';

/** Every error this package throws on purpose. */
export class FacetError extends Error {
  override name = 'FacetError';
}

/** `require` (or `with`) asked for a facet that is neither attached nor registered. */
export class MissingFacetError extends FacetError {
  override name = 'MissingFacetError';
  constructor(readonly key: FacetKey) {
    super(`facet ${keyName(key)} is not attached`);
  }
}

/** A facet with this key is already attached; detach it first. */
export class DuplicateFacetError extends FacetError {
  override name = 'DuplicateFacetError';
  constructor(readonly key: FacetKey) {
    super(`facet ${keyName(key)} is already attached`);
  }
}

/** The facet declares `requires` that are not attached (and could not be created lazily). */
export class MissingDependencyError extends FacetError {
  override name = 'MissingDependencyError';
  constructor(
    readonly key: FacetKey,
    readonly missing: readonly FacetKey[],
  ) {
    super(`facet ${keyName(key)} requires ${missing.map(keyName).join(', ')}, which ${missing.length === 1 ? 'is' : 'are'} not attached`);
  }
}

/** Detaching this facet would break facets that declare they require it. */
export class FacetInUseError extends FacetError {
  override name = 'FacetInUseError';
  constructor(
    readonly key: FacetKey,
    readonly dependents: readonly FacetKey[],
  ) {
    super(
      `facet ${keyName(key)} cannot be detached: ${dependents.map(keyName).join(', ')} ${dependents.length === 1 ? 'requires' : 'require'} it`,
    );
  }
}

/** The Proxy found the same method name on more than one facet and will not guess. */
export class AmbiguousMethodError extends FacetError {
  override name = 'AmbiguousMethodError';
  constructor(
    readonly method: string,
    readonly keys: readonly FacetKey[],
  ) {
    super(`method '${method}' is provided by several facets (${keys.map(keyName).join(', ')}); call it through get(FacetClass)`);
  }
}

/** `get(BaseClass)` found no facet under that key but several attached facets that are instances of it. */
export class AmbiguousFacetError extends FacetError {
  override name = 'AmbiguousFacetError';
  constructor(
    readonly key: FacetKey,
    readonly matches: readonly FacetKey[],
  ) {
    super(
      `${matches.length} attached facets are instances of ${keyName(key)} (${matches.map(keyName).join(', ')}); ask for one of them by its own class`,
    );
  }
}

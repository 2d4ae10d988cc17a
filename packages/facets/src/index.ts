export { type AuditEntry, AuditFacet, type AuditOptions } from './builtin/audit.js';
export { CacheFacet, type CacheOptions, type CacheStats } from './builtin/cache.js';
export {
  ALL_TOPICS,
  NotificationFacet,
  type NotificationFailure,
  type NotificationHandler,
  type NotificationOptions,
  type NotifyReport,
} from './builtin/notification.js';
export { PermissionDeniedError, PermissionFacet, type PermissionOptions } from './builtin/permission.js';
export { registerStandardFacets } from './builtin/standard.js';
export {
  AmbiguousFacetError,
  AmbiguousMethodError,
  DuplicateFacetError,
  FacetError,
  FacetInUseError,
  MissingDependencyError,
  MissingFacetError,
} from './core/errors.js';
export { Facet, hostOf } from './core/facet.js';
export { type FacetEntry, type FacetedJson, FacetedObject, type FacetedOptions, Facets } from './core/faceted-object.js';
export {
  assertFacetKey,
  type ConstructibleFacet,
  type FacetClass,
  type FacetKey,
  type FacetOf,
  type FacetToken,
  facetToken,
  keyName,
} from './core/keys.js';
export { type FacetDefinition, type FacetFactory, FacetRegistry, type RegisteredFacet } from './core/registry.js';
export { type DispatchStats, dispatch, dispatchStats } from './dispatch/proxy.js';
export { compose } from './profiles/compose.js';
export { ProfileError, type SourceLocation } from './profiles/errors.js';
export { type FacetSpec, type Profile, ProfileSet } from './profiles/profile-set.js';

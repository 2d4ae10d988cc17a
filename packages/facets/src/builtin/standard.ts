import { FacetRegistry } from '../core/registry.js';
import { AuditFacet } from './audit.js';
import { CacheFacet } from './cache.js';
import { NotificationFacet } from './notification.js';
import { PermissionFacet } from './permission.js';

/**
 * Registers the ready-made facets under the names profiles and JSON use: `audit` and
 * `permission` (both serialisable), `cache` and `notification` (transient: a cache is rebuilt
 * and handlers are code). All four may be created lazily.
 */
export function registerStandardFacets(registry: FacetRegistry = new FacetRegistry()): FacetRegistry {
  return registry
    .register(AuditFacet, {
      name: 'audit',
      create: (config) => new AuditFacet(config),
      parseConfig: AuditFacet.parseConfig,
      serialize: (facet) => facet.toJSON(),
      deserialize: AuditFacet.fromJSON,
    })
    .register(PermissionFacet, {
      name: 'permission',
      create: (config) => new PermissionFacet(config),
      parseConfig: PermissionFacet.parseConfig,
      serialize: (facet) => facet.toJSON(),
      deserialize: PermissionFacet.fromJSON,
    })
    .register(CacheFacet, { name: 'cache', create: (config) => new CacheFacet(config), parseConfig: CacheFacet.parseConfig })
    .register(NotificationFacet, {
      name: 'notification',
      create: (config) => new NotificationFacet(config),
      parseConfig: NotificationFacet.parseConfig,
    });
}

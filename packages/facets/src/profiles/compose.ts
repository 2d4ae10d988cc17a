import { FacetedObject } from '../core/faceted-object.js';
import type { FacetKey } from '../core/keys.js';
import type { FacetDefinition, FacetRegistry } from '../core/registry.js';
import { ProfileError } from './errors.js';
import type { FacetSpec, Profile } from './profile-set.js';

interface Planned {
  readonly spec: FacetSpec;
  readonly key: FacetKey;
  readonly definition: FacetDefinition<object>;
  readonly config: unknown;
}

function plan(spec: FacetSpec, registry: FacetRegistry): Planned {
  const registered = registry.byName(spec.type);
  if (registered === undefined) {
    throw new ProfileError(
      `${spec.field}.type`,
      `unknown facet type '${spec.type}' (registered: ${registry.names().join(', ') || 'none'})`,
      spec.location,
    );
  }
  const { key, definition } = registered;
  try {
    return { spec, key, definition, config: definition.parseConfig === undefined ? spec.config : definition.parseConfig(spec.config) };
  } catch (error) {
    throw new ProfileError(`${spec.field}.config`, error instanceof Error ? error.message : String(error), spec.location);
  }
}

/** Orders the planned facets so that each comes after the listed facets its class requires. */
function dependencyOrder(planned: readonly Planned[], profile: Profile): Planned[] {
  const listed = new Set(planned.map((p) => p.key));
  const requiresOf = (p: Planned) =>
    typeof p.key === 'function' ? (((p.key as { requires?: readonly FacetKey[] }).requires ?? []) as readonly FacetKey[]) : [];
  const ordered: Planned[] = [];
  const done = new Set<FacetKey>();
  let pending = [...planned];
  while (pending.length > 0) {
    const ready = pending.filter((p) => requiresOf(p).every((dep) => done.has(dep) || !listed.has(dep)));
    if (ready.length === 0) {
      throw new ProfileError(
        `profiles.${profile.name}.facets`,
        `facets require each other in a cycle: ${pending.map((p) => p.spec.type).join(', ')}`,
        pending[0]!.spec.location,
      );
    }
    for (const p of ready) {
      ordered.push(p);
      done.add(p.key);
    }
    pending = pending.filter((p) => !ready.includes(p));
  }
  return ordered;
}

/**
 * Builds the faceted object a profile describes: every facet is created by its registry
 * definition with its validated config, in dependency order. All or nothing: if one facet cannot
 * be attached, those attached so far are detached again and the error names the profile entry.
 */
export function compose<TCore extends object>(core: TCore, profile: Profile, registry: FacetRegistry): FacetedObject<TCore> {
  if (profile === null || typeof profile !== 'object' || !Array.isArray(profile.facets)) {
    throw new TypeError('compose: profile must be a resolved Profile (ProfileSet.resolve(name))');
  }
  const ordered = dependencyOrder(
    profile.facets.map((spec) => plan(spec, registry)),
    profile,
  );
  const faceted = FacetedObject.of(core, { registry });
  // One transaction: a failing entry detaches every facet attached before it, dependencies the
  // registry created lazily included, and its ProfileError is what the caller sees.
  faceted.transaction(() => {
    for (const { spec, key, definition, config } of ordered) {
      try {
        faceted.adopt(key, definition.create(config, faceted as FacetedObject<object>));
      } catch (error) {
        const wrapped = new ProfileError(spec.field, error instanceof Error ? error.message : String(error), spec.location);
        Object.defineProperty(wrapped, 'cause', { value: error, configurable: true, writable: true });
        throw wrapped;
      }
    }
  });
  return faceted;
}

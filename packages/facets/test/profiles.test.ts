import { describe, expect, it } from 'vitest';
import {
  AuditFacet,
  CacheFacet,
  compose,
  Facet,
  FacetRegistry,
  Facets,
  NotificationFacet,
  PermissionFacet,
  ProfileError,
  ProfileSet,
  registerStandardFacets,
} from '../src/index.js';

const PROFILES = `profiles:
  employee:
    facets:
      - type: permission
        config:
          roles: [employee]
          grants: { employee: [account:read], manager: ["account:*"], admin: ["*"] }
  manager:
    inherits: employee
    facets:
      - type: permission
        config:
          roles: [manager]
          grants: { manager: ["account:*"] }
      - type: notification
  admin:
    inherits: manager
    facets:
      - type: audit
      - type: cache
        config: { maxEntries: 10, ttlMs: 1000 }
`;

function errorOf(fn: () => unknown): ProfileError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ProfileError) return error;
    throw error;
  }
  throw new Error('expected a ProfileError');
}

describe('ProfileSet', () => {
  it('resolves inheritance: a child replaces a named facet in place and appends new ones', () => {
    const set = ProfileSet.parse(PROFILES, { source: 'facets.yml' });
    expect(set.names()).toEqual(['employee', 'manager', 'admin']);
    const admin = set.resolve('admin');
    expect(admin.chain).toEqual(['employee', 'manager', 'admin']);
    expect(admin.facets.map((f) => f.type)).toEqual(['permission', 'notification', 'audit', 'cache']);
    expect(admin.facets[0]!.config).toEqual({ roles: ['manager'], grants: { manager: ['account:*'] } });
    expect(admin.facets[0]!.location).toEqual({ source: 'facets.yml', line: 11, column: 9 });
  });

  it('reads JSON with the same parser', () => {
    const set = ProfileSet.parse(JSON.stringify({ profiles: { a: { facets: [{ type: 'audit' }] }, b: { inherits: 'a' } } }));
    expect(set.resolve('b').facets.map((f) => f.type)).toEqual(['audit']);
  });

  it('names file, line, column and field for a bad value', () => {
    const text = 'profiles:\n  a:\n    facets:\n      - type: 42\n';
    const error = errorOf(() => ProfileSet.parse(text, { source: 'bad.yml' }));
    expect(error.message).toBe('bad.yml:4:15: profiles.a.facets[0].type: must be a non-empty string naming a registered facet');
    expect(error.location).toEqual({ source: 'bad.yml', line: 4, column: 15 });
  });

  it('reports YAML syntax errors with their position', () => {
    const error = errorOf(() => ProfileSet.parse('profiles:\n  a: [unclosed\n', { source: 'x.yml' }));
    expect(error.location?.source).toBe('x.yml');
    expect(error.location?.line).toBeGreaterThanOrEqual(2);
  });

  it('refuses unknown keys, unknown parents, cycles and duplicate facet types', () => {
    expect(errorOf(() => ProfileSet.parse('profiles:\n  a:\n    facet: []\n', { source: 'f' })).message).toMatch(
      /^f:3:12: profiles\.a\.facet: unknown key/,
    );
    expect(errorOf(() => ProfileSet.parse('profiles:\n  a:\n    inherits: ghost\n')).message).toMatch(
      /profiles\.a\.inherits: inherits unknown profile 'ghost'/,
    );
    expect(errorOf(() => ProfileSet.parse('profiles:\n  a: { inherits: b }\n  b: { inherits: a }\n')).message).toMatch(
      /inheritance cycle a -> b -> a/,
    );
    expect(errorOf(() => ProfileSet.parse('profiles:\n  a:\n    facets: [{type: audit}, {type: audit}]\n')).message).toMatch(
      /profiles\.a\.facets\[1\]\.type: facet type 'audit' is listed twice/,
    );
    expect(errorOf(() => ProfileSet.parse('roles: {}\n')).message).toMatch(/roles: unknown top-level key/);
    expect(errorOf(() => ProfileSet.from({ profiles: { a: { facets: [{ type: 'x' }] } } }).resolve('z')).message).toMatch(
      /unknown profile 'z'/,
    );
  });
});

describe('compose', () => {
  it('builds the faceted object a profile describes, with validated configs', () => {
    const registry = registerStandardFacets();
    const core = { id: 'u1' };
    const obj = compose(core, ProfileSet.parse(PROFILES).resolve('admin'), registry);
    expect(Facets.of(core)).toBe(obj);
    expect(obj.facets().map((f) => f.key)).toEqual([PermissionFacet, NotificationFacet, AuditFacet, CacheFacet]);
    expect(obj.require(PermissionFacet).can('account:withdraw')).toBe(true);
    expect(obj.require(PermissionFacet).can('user:delete')).toBe(false);
  });

  it('an employee profile gets only what it lists', () => {
    const obj = compose({ id: 'u2' }, ProfileSet.parse(PROFILES).resolve('employee'), registerStandardFacets());
    expect(obj.require(PermissionFacet).can('account:read')).toBe(true);
    expect(obj.require(PermissionFacet).can('account:withdraw')).toBe(false);
    expect(obj.has(AuditFacet)).toBe(false);
  });

  it('names the profile entry, file and line for an unknown type or a bad config', () => {
    const registry = registerStandardFacets();
    const unknown = ProfileSet.parse('profiles:\n  a:\n    facets:\n      - type: ledger\n', { source: 'p.yml' }).resolve('a');
    expect(errorOf(() => compose({}, unknown, registry)).message).toBe(
      "p.yml:4:9: profiles.a.facets[0].type: unknown facet type 'ledger' (registered: audit, permission, cache, notification)",
    );
    const bad = ProfileSet.parse('profiles:\n  a:\n    facets:\n      - type: cache\n        config: { ttlMs: -1 }\n', {
      source: 'p.yml',
    }).resolve('a');
    expect(errorOf(() => compose({}, bad, registry)).message).toBe(
      'p.yml:4:9: profiles.a.facets[0].config: CacheFacet: options.ttlMs must be a positive finite number',
    );
  });

  it('attaches in dependency order whatever the listed order', () => {
    class Base extends Facet {}
    class Needy extends Facet {
      static override readonly requires = [Base];
    }
    const registry = new FacetRegistry()
      .register(Base, { name: 'base', create: () => new Base(), lazy: false })
      .register(Needy, { name: 'needy', create: () => new Needy() });
    const profile = ProfileSet.from({ profiles: { p: { facets: [{ type: 'needy' }, { type: 'base' }] } } }).resolve('p');
    expect(
      compose({}, profile, registry)
        .facets()
        .map((f) => f.key),
    ).toEqual([Base, Needy]);
  });

  it('is all or nothing: a failing facet detaches those attached before it', () => {
    class Explodes extends Facet {
      override onAttach(): void {
        throw new Error('boom');
      }
    }
    const registry = registerStandardFacets().register(Explodes, { name: 'explodes', create: () => new Explodes() });
    const core = {};
    const profile = ProfileSet.from({ profiles: { p: { facets: [{ type: 'audit' }, { type: 'explodes' }] } } }).resolve('p');
    expect(errorOf(() => compose(core, profile, registry)).message).toBe('profiles.p.facets[1]: boom');
    expect(Facets.of(core).facets()).toEqual([]);
  });
});

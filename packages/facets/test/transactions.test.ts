import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AmbiguousFacetError,
  AuditFacet,
  compose,
  Facet,
  type FacetedObject,
  FacetRegistry,
  Facets,
  ProfileError,
  ProfileSet,
} from '../src/index.js';

class Ledger extends Facet {
  entries: string[] = [];
}
class Fails extends Facet {
  static override readonly requires = [Ledger];
  override onAttach(): void {
    throw new Error('cannot attach: the ledger is closed');
  }
}
class Stubborn extends Facet {
  override onDetach(): void {
    throw new Error('I will not go');
  }
}
class Plain extends Facet {}

function keysOf(faceted: FacetedObject<object>): string[] {
  return faceted.facets().map((entry) => (typeof entry.key === 'function' ? entry.key.name : String(entry.key)));
}

describe('attach is transactional', () => {
  it('a dependency the registry created lazily for a facet whose onAttach throws is detached again', () => {
    const registry = new FacetRegistry().register(Ledger, () => new Ledger());
    const faceted = Facets.of({}, { registry });
    expect(() => faceted.attach(Fails)).toThrow('the ledger is closed');
    expect(keysOf(faceted)).toEqual([]);
    expect(faceted.has(Ledger)).toBe(false);
    // The object is usable afterwards, and a later lazy get still works.
    expect(faceted.get(Ledger)).toBeInstanceOf(Ledger);
  });

  it('transaction(work): every attach inside is undone when work throws; a failing onDetach is suppressed, not thrown', () => {
    const faceted = Facets.of({});
    faceted.attach(Plain);
    const original = new Error('the work failed');
    let thrown: unknown;
    try {
      faceted.transaction(() => {
        faceted.attach(Ledger);
        faceted.attach(Stubborn);
        throw original;
      });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBe(original);
    expect((thrown as { suppressed: Error[] }).suppressed.map((error) => error.message)).toEqual(['I will not go']);
    expect(keysOf(faceted)).toEqual(['Plain']);
    expect(faceted.transaction(() => faceted.attach(Ledger))).toBeInstanceOf(Ledger);
    expect(keysOf(faceted)).toEqual(['Plain', 'Ledger']);
  });

  it('property: after any failing transaction the attached facets are exactly those before it', () => {
    const classes = [Ledger, Stubborn, Plain, AuditFacet] as const;
    fc.assert(
      fc.property(fc.subarray([0, 1, 2, 3]), fc.subarray([0, 1, 2, 3]), (before, during) => {
        const faceted = Facets.of({});
        for (const i of before) faceted.attach(classes[i] as typeof Plain);
        const snapshot = keysOf(faceted);
        expect(() =>
          faceted.transaction(() => {
            for (const i of during) if (!faceted.has(classes[i]!)) faceted.attach(classes[i] as typeof Plain);
            throw new Error('boom');
          }),
        ).toThrow('boom');
        expect(keysOf(faceted)).toEqual(snapshot);
      }),
    );
  });
});

describe('compose is transactional', () => {
  const registry = () =>
    new FacetRegistry()
      .register(Ledger, () => new Ledger())
      .register(Stubborn, { name: 'stubborn', create: () => new Stubborn() })
      .register(Fails, { name: 'fails', create: () => new Fails() });

  it('a failing entry detaches the facets before it and the lazily created dependency; its ProfileError survives a failing rollback', () => {
    const profile = ProfileSet.parse(JSON.stringify({ profiles: { p: { facets: [{ type: 'stubborn' }, { type: 'fails' }] } } })).resolve(
      'p',
    );
    const faceted = Facets.of({}, { registry: registry() });
    let thrown: unknown;
    try {
      compose(faceted.core, profile, faceted.registry!);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ProfileError);
    expect((thrown as Error).message).toContain('the ledger is closed');
    expect((thrown as { suppressed: Error[] }).suppressed.map((error) => error.message)).toEqual(['I will not go']);
    expect(keysOf(faceted)).toEqual([]);
  });
});

describe('lookup by base class (Extension Object lookup by interface)', () => {
  class SpecialAudit extends AuditFacet {}
  class OtherAudit extends AuditFacet {}

  it('get(Base) finds the one attached facet that is an instance of it; has agrees', () => {
    const faceted = Facets.of({});
    const special = faceted.attach(SpecialAudit);
    expect(faceted.get(AuditFacet)).toBe(special);
    expect(faceted.require(AuditFacet)).toBe(special);
    expect(faceted.has(AuditFacet)).toBe(true);
    expect(faceted.get(Facet)).toBe(special);
  });

  it('the facet attached under the key itself wins; two subclasses and no exact facet is AmbiguousFacetError', () => {
    const faceted = Facets.of({});
    faceted.attach(SpecialAudit);
    faceted.attach(OtherAudit);
    expect(() => faceted.get(AuditFacet)).toThrow(AmbiguousFacetError);
    expect(() => faceted.get(AuditFacet)).toThrow('2 attached facets are instances of AuditFacet (SpecialAudit, OtherAudit)');
    const exact = faceted.attach(AuditFacet);
    expect(faceted.get(AuditFacet)).toBe(exact);
  });

  it('with nothing attached that fits, the registry still creates the facet lazily', () => {
    const registry = new FacetRegistry().register(AuditFacet, () => new AuditFacet());
    const faceted = Facets.of({}, { registry });
    expect(faceted.get(AuditFacet)).toBeInstanceOf(AuditFacet);
  });
});

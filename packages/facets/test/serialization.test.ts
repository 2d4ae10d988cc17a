import { describe, expect, it } from 'vitest';
import { AuditFacet, CacheFacet, Facet, FacetedObject, Facets, PermissionFacet, registerStandardFacets } from '../src/index.js';

describe('toJSON / fromJSON', () => {
  it('round-trips the core and every facet that declares how; transient facets are left out', () => {
    const registry = registerStandardFacets();
    const obj = Facets.of({ id: 'acc-9', balance: 10 }, { registry });
    obj.attach(AuditFacet).record('opened', { by: 'ops' });
    obj.attach(PermissionFacet, { roles: ['teller'], grants: { teller: ['account:read'] } });
    obj.attach(CacheFacet).set('k', 1);
    const json = JSON.parse(JSON.stringify(obj));
    expect(json.facets.map((f: { type: string }) => f.type)).toEqual(['audit', 'permission']);

    const copy = FacetedObject.fromJSON<{ id: string; balance: number }>(json, registry);
    expect(copy.core).toEqual({ id: 'acc-9', balance: 10 });
    expect(copy.require(AuditFacet).entries()).toEqual(obj.require(AuditFacet).entries());
    expect(copy.require(PermissionFacet).can('account:read')).toBe(true);
    expect(copy.has(CacheFacet)).toBe(false);
    expect(copy.require(AuditFacet).owner).toBe(copy.core);
    expect(JSON.parse(JSON.stringify(copy))).toEqual(json);
  });

  it('keeps declared dependencies satisfied on restore', () => {
    class Needs extends Facet {
      static override readonly requires = [AuditFacet];
    }
    const registry = registerStandardFacets().register(Needs, {
      name: 'needs',
      create: () => new Needs(),
      serialize: () => ({}),
      deserialize: () => new Needs(),
    });
    const obj = Facets.of({}, { registry });
    obj.attach(AuditFacet);
    obj.attach(Needs);
    const copy = FacetedObject.fromJSON(JSON.parse(JSON.stringify(obj)), registry);
    expect(copy.facets().map((f) => f.key)).toEqual([AuditFacet, Needs]);
  });

  it('names the bad field in malformed data', () => {
    const registry = registerStandardFacets();
    expect(() => FacetedObject.fromJSON(null, registry)).toThrow(/data must be an object/);
    expect(() => FacetedObject.fromJSON({ core: 1, facets: [] }, registry)).toThrow(/data.core must be an object/);
    expect(() => FacetedObject.fromJSON({ core: {}, facets: {} }, registry)).toThrow(/data.facets must be an array/);
    expect(() => FacetedObject.fromJSON({ core: {}, facets: [{ type: 7 }] }, registry)).toThrow(/data.facets\[0\].type must be a string/);
    expect(() => FacetedObject.fromJSON({ core: {}, facets: [{ type: 'ledger' }] }, registry)).toThrow(
      /data.facets\[0\].type 'ledger' is not registered/,
    );
    expect(() => FacetedObject.fromJSON({ core: {}, facets: [{ type: 'cache' }] }, registry)).toThrow(
      /facet 'cache' does not declare how to deserialise/,
    );
  });

  it('does not wrap the core when a facet in the data is invalid', () => {
    const registry = registerStandardFacets();
    const core = {};
    expect(() => FacetedObject.fromJSON({ core, facets: [{ type: 'audit', data: { entries: 'x' } }] }, registry)).toThrow(
      /data.entries must be an array/,
    );
    expect(Facets.existing(core)).toBeUndefined();
  });
});

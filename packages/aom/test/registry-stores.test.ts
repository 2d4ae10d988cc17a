import { postgres } from '@myrmex/test-utils';
import { describe, expect, it } from 'vitest';
import { AomAccessError, AomConflictError, AomDefinitionError, AomRegistry, type MigrationStep } from '../src/index.js';
import { issuesOf, vehicle, vehicleRegistry } from './support/fixtures.js';
import type { StoreFactory } from './support/store-contract.js';
import { memoryStore, postgresStores, sqliteStore } from './support/stores.js';

/** The registry's behaviour that depends on the store, run on each store. */
function registryOn(factory: StoreFactory): void {
  const withRegistry = async (body: (registry: AomRegistry, reopen: () => Promise<AomRegistry>) => Promise<void>) => {
    const { store, dispose } = await factory();
    try {
      await body(await vehicleRegistry({ store }), () => AomRegistry.open({ store }));
    } finally {
      await dispose();
    }
  };

  it('writes with optimistic concurrency: racing patches both land, a stale revision is refused', () =>
    withRegistry(async (registry) => {
      const car = await registry.create('Car', { maker: 'Ant', price: 1 });
      const results = await Promise.all([
        registry.update(car.id, { price: 2 }),
        registry.update(car.id, { year: 2001 }),
        registry.update(car.id, { quantity: 3 }),
      ]);
      expect(results.map((entity) => entity.revision).sort()).toEqual([2, 3, 4]);
      expect((await registry.get(car.id)).values).toMatchObject({ price: 2, year: 2001, quantity: 3 });
      await expect(registry.update(car.id, { price: 5 }, { expectedRevision: 2 })).rejects.toBeInstanceOf(AomConflictError);
    }));

  it('checks references, finds referrers through list containment and guards deletes', () =>
    withRegistry(async (registry) => {
      const ada = await registry.create('Person', { name: 'Ada' });
      const bob = await registry.create('Person', { name: 'Bob' });
      const acme = await registry.create('Company', { name: 'Acme' });
      const job = await registry.create('Employment', {
        employer: acme.id,
        employee: ada.id,
        reports: [bob.id, ada.id],
        from: '2020-01-01',
      });
      expect(await registry.referrers(ada.id)).toEqual([
        { type: 'Employment', id: job.id, property: 'employee' },
        { type: 'Employment', id: job.id, property: 'reports' },
      ]);
      expect(await issuesOf(() => registry.delete(acme.id))).toEqual([['*', 'referenced']]);
      expect(await issuesOf(() => registry.create('Employment', { employer: ada.id, employee: ada.id, from: '2020-01-01' }))).toEqual([
        ['employer', 'reference'],
      ]);
      await registry.delete(job.id);
      await registry.delete(acme.id);
    }));

  it('changes an entity to another type: refused until a migration maps its values, then stored as the new type', () =>
    withRegistry(async (registry, reopen) => {
      await registry.defineType({ name: 'Bike', extends: 'Vehicle', properties: { wheels: { type: 'integer', min: 2, required: true } } });
      const car = await registry.create('Car', { maker: 'Ant', year: 2001, price: 5 });
      expect((await issuesOf(() => registry.changeType(car.id, 'Bike'))).sort()).toEqual([
        ['electric', 'unknown'],
        ['fuel_type', 'unknown'],
        ['price', 'unknown'],
        ['quantity', 'unknown'],
        ['wheels', 'required'],
      ]);
      // A migration that maps too little is refused the same way, naming what is left.
      expect(
        await issuesOf(() => registry.changeType(car.id, 'Bike', { migration: [{ op: 'set', property: 'wheels', expression: '1' }] })),
      ).toContainEqual(['wheels', 'min']);
      await expect(registry.changeType(car.id, 'Bike', { migration: [{ op: 'explode' } as never] })).rejects.toThrow(AomDefinitionError);
      await expect(registry.changeType(car.id, 'Bike', { migration: [{ op: 'explode' } as never] })).rejects.toThrow('migration[0].op');
      await expect(registry.changeType(car.id, 'Vehicle')).rejects.toThrow('Vehicle is abstract');
      const unchanged = await registry.get(car.id);
      expect([unchanged.type.name, unchanged.revision]).toEqual(['Car', 1]);

      const migration: MigrationStep[] = [
        { op: 'set', property: 'wheels', expression: 'quantity + 1' },
        ...['price', 'fuel_type', 'electric', 'quantity'].map((property): MigrationStep => ({ op: 'remove', property })),
      ];
      await expect(registry.changeType(car.id, 'Bike', { migration, expectedRevision: 7 })).rejects.toBeInstanceOf(AomConflictError);
      const bike = await registry.changeType(car.id, 'Bike', { migration, expectedRevision: 1 });
      expect([bike.type.name, bike.revision, bike.values]).toEqual(['Bike', 2, { maker: 'Ant', year: 2001, wheels: 2 }]);
      const again = await reopen();
      expect((await again.get(car.id)).type.name).toBe('Bike');
      expect((await again.find('Bike')).map((entity) => entity.id)).toEqual([car.id]);
      expect(await again.find('Car')).toEqual([]);
    }));

  it('refuses a change of type that would strand a reference to the entity', () =>
    withRegistry(async (registry) => {
      await registry.defineType({ name: 'Manager', extends: 'Person', properties: { reports_to_board: { type: 'boolean' } } });
      const ada = await registry.create('Person', { name: 'Ada' });
      const acme = await registry.create('Company', { name: 'Acme' });
      await registry.create('Employment', { employer: acme.id, employee: ada.id, from: '2020-01-01' });
      // Ada's values fit a Company, but Employment.employee must refer to a Person.
      expect(await issuesOf(() => registry.changeType(ada.id, 'Company'))).toEqual([['*', 'referenced']]);
      expect((await registry.get(ada.id)).type.name).toBe('Person');
      // A subtype of Person still satisfies the reference.
      const manager = await registry.changeType(ada.id, 'Manager');
      expect([manager.type.name, manager.values]).toEqual(['Manager', { name: 'Ada' }]);
    }));

  it('keeps every change of a property value with revision and time, through updates, migrations and a change of type', () =>
    withRegistry(async (registry, reopen) => {
      const before = new Date().toISOString();
      const car = await registry.create('Car', { maker: 'Ant', price: 10 });
      await registry.update(car.id, { price: 12, year: 2001 });
      await registry.update(car.id, { maker: 'Bee' });
      await registry.update(car.id, { price: null });
      await registry.defineType({
        ...vehicle,
        properties: { ...vehicle.properties, maker: { type: 'string', required: true, maxLength: 3 } },
        migration: [{ op: 'set', property: 'maker', expression: 'upper(maker)' }],
      });
      expect((await registry.get(car.id)).values.maker).toBe('BEE');
      const history = (entries: { revision: number; value?: unknown }[]) => entries.map(({ revision, value }) => [revision, value]);
      const again = await reopen();
      expect(history(await again.history(car.id, 'price'))).toEqual([
        [1, 10],
        [2, 12],
        [4, undefined],
      ]);
      expect(history(await again.history(car.id, 'maker'))).toEqual([
        [1, 'Ant'],
        [3, 'Bee'],
        [5, 'BEE'],
      ]);
      expect(history(await again.history(car.id, 'quantity'))).toEqual([[1, 1]]);
      const entries = await again.history(car.id, 'maker');
      expect(entries.every((entry) => entry.at >= before && entry.at <= new Date().toISOString())).toBe(true);
      expect('value' in (await again.history(car.id, 'price'))[2]!).toBe(false);
      await expect(again.history(car.id, 'colour')).rejects.toThrow('Car.colour');
      // Reading a protected property's history needs the same read access as its value.
      await again.update(car.id, { cost: 3 });
      await expect(again.as({ id: 'eve', roles: [] }).history(car.id, 'cost')).rejects.toBeInstanceOf(AomAccessError);
      expect(history(await again.as({ id: 'fin', roles: ['finance'] }).history(car.id, 'cost'))).toEqual([[6, 3]]);
    }));

  it('finds across subtypes with the query language', () =>
    withRegistry(async (registry) => {
      await registry.defineType({ name: 'Truck', extends: 'Vehicle', properties: { axles: { type: 'integer' } } });
      for (const [type, maker, year] of [
        ['Car', 'Ant', 2001],
        ['Truck', 'Bee', 2005],
        ['Car', 'Cat', 2010],
        ['Truck', 'Dog', 1999],
      ] as const) {
        await registry.create(type, { maker, year });
      }
      const found = await registry.find('Vehicle', { where: { year: { gte: 2000 } }, orderBy: '-year', limit: 2 });
      expect(found.map((entity) => [entity.type.name, entity.values.maker])).toEqual([
        ['Car', 'Cat'],
        ['Truck', 'Bee'],
      ]);
      expect((await registry.find('Car', { where: { maker: { in: ['Bee', 'Cat'] } } })).map((entity) => entity.values.maker)).toEqual([
        'Cat',
      ]);
    }));

  it('migrates lazily and eagerly, and a reopened registry reads every version', () =>
    withRegistry(async (registry, reopen) => {
      const ids = [];
      for (const name of ['Ada', 'Bob', 'Cy']) ids.push((await registry.create('Person', { name })).id);
      await registry.defineType({
        name: 'Person',
        properties: { full_name: { type: 'string', required: true }, initial: { type: 'string' } },
        migration: [
          { op: 'rename', from: 'name', to: 'full_name' },
          { op: 'set', property: 'initial', expression: 'upper(full_name)' },
        ],
      });
      expect((await registry.get(ids[0]!)).values).toEqual({ full_name: 'Ada', initial: 'ADA' });
      expect(await registry.migrateAll('Person')).toBe(2);
      const again = await reopen();
      expect(again.type('Person').version).toBe(2);
      expect([...again.type('Person', 1).properties.keys()]).toEqual(['name']);
      expect((await again.find('Person', { where: { full_name: 'Cy' } })).map((entity) => entity.values)).toEqual([
        { full_name: 'Cy', initial: 'CY' },
      ]);
    }));
}

const pg = await postgres();

describe('registry on memory', () => registryOn(memoryStore));
describe('registry on SQLite', () => registryOn(sqliteStore));
pg.describe('registry on PostgreSQL', () => registryOn(postgresStores(pg)));

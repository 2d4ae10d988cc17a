import { AuditFacet, Facets } from '@myrmex/facets';
import { describe, expect, it } from 'vitest';
import {
  AomAccessError,
  AomConflictError,
  AomNotFoundError,
  AomQueryError,
  AomRegistry,
  DEFAULT_FIND_LIMIT,
  type SensitiveRead,
} from '../src/index.js';
import { issuesOf, vehicleRegistry } from './support/fixtures.js';

const admin = { id: 'ada', roles: ['admin'] };
const VIN = '1HGCM82633A004352';

describe('AomRegistry', () => {
  it('creates, gets, updates with patches and deletes', async () => {
    const registry = await vehicleRegistry();
    const created = await registry.create('Car', { maker: 'Ant', year: 2020, price: 100, tags: ['x'] });
    const loaded = await registry.get(created.id);
    expect(loaded.values).toEqual(created.values);
    expect(loaded.type.name).toBe('Car');
    const updated = await registry.update(created.id, { price: 120, tags: null, year: undefined });
    expect(updated.revision).toBe(2);
    expect(updated.values).toEqual({ maker: 'Ant', year: 2020, price: 120, fuel_type: 'petrol', electric: false, quantity: 1 });
    expect(await issuesOf(() => registry.update(created.id, { maker: null }))).toEqual([['maker', 'required']]);
    expect((await registry.get(created.id)).revision).toBe(2);
    await registry.delete(created.id);
    await expect(registry.get(created.id)).rejects.toBeInstanceOf(AomNotFoundError);
    await expect(registry.create('Truck', {})).rejects.toThrow('type not found: Truck');
  });

  it('refuses a write at a stale revision', async () => {
    const registry = await vehicleRegistry();
    const car = await registry.create('Car', { maker: 'Ant' });
    await registry.update(car.id, { price: 1 }, { expectedRevision: 1 });
    await expect(registry.update(car.id, { price: 2 }, { expectedRevision: 1 })).rejects.toBeInstanceOf(AomConflictError);
    await expect(registry.delete(car.id, { expectedRevision: 1 })).rejects.toBeInstanceOf(AomConflictError);
    await expect(registry.update(car.id, { price: 2 }, { expectedRevision: 1.5 })).rejects.toThrow(
      'options.expectedRevision must be a positive integer',
    );
    const both = await Promise.all([registry.update(car.id, { price: 3 }), registry.update(car.id, { year: 2001 })]);
    expect(both.map((entity) => entity.revision).sort()).toEqual([3, 4]);
    expect((await registry.get(car.id)).values).toMatchObject({ price: 3, year: 2001 });
  });

  it('inherits properties, rules and operations from the parent type', async () => {
    const registry = await vehicleRegistry();
    const type = registry.type('Car');
    expect(type.lineage).toEqual(['Car', 'Vehicle']);
    expect(type.property('maker')?.declaredBy).toBe('Vehicle');
    expect(await issuesOf(() => registry.create('Car', { year: 1700 }))).toEqual([
      ['maker', 'required'],
      ['year', 'min'],
    ]);
    await registry.defineType({ name: 'Truck', extends: 'Vehicle', properties: { axles: { type: 'integer', min: 2, required: true } } });
    await registry.create('Truck', { maker: 'Ant', axles: 3 });
    await registry.create('Car', { maker: 'Bee' });
    expect((await registry.find('Vehicle', { orderBy: 'maker' })).map((entity) => entity.type.name)).toEqual(['Truck', 'Car']);
    expect((await registry.find('Truck')).length).toBe(1);
  });

  describe('find', () => {
    const seeded = async () => {
      const registry = await vehicleRegistry();
      const rows: [string, number, number, string[]][] = [
        ['Ant', 2001, 10, ['city']],
        ['Bee', 2005, 30, ['city', 'family']],
        ['Cat', 2010, 20, []],
        ['Dog', 2015, 50, ['family']],
      ];
      for (const [maker, year, price, tags] of rows) await registry.create('Car', { maker, year, price, tags });
      await registry.create('Car', { maker: 'Eel' });
      return registry;
    };
    const makers = (entities: { values: Readonly<Record<string, unknown>> }[]) => entities.map((entity) => entity.values.maker);

    it('supports equality, ranges, in, exists, contains, orderBy and limit', async () => {
      const registry = await seeded();
      expect(makers(await registry.find('Car', { where: { maker: 'Bee' } }))).toEqual(['Bee']);
      expect(makers(await registry.find('Car', { where: { year: { gte: 2005, lt: 2015 } }, orderBy: 'year' }))).toEqual(['Bee', 'Cat']);
      expect(makers(await registry.find('Car', { where: { maker: { in: ['Ant', 'Dog', 'Zed'] } }, orderBy: '-maker' }))).toEqual([
        'Dog',
        'Ant',
      ]);
      expect(makers(await registry.find('Car', { where: { year: { exists: false } } }))).toEqual(['Eel']);
      expect(
        makers(await registry.find('Car', { where: { tags: { contains: 'family' } }, orderBy: { property: 'price', direction: 'desc' } })),
      ).toEqual(['Dog', 'Bee']);
      expect(makers(await registry.find('Car', { orderBy: ['-price'], limit: 2 }))).toEqual(['Dog', 'Bee']);
      expect(makers(await registry.find('Car', { where: { price: { gt: 15 } }, orderBy: ['price', 'maker'] }))).toEqual([
        'Cat',
        'Bee',
        'Dog',
      ]);
    });

    it('combines $or and $not with the other conditions', async () => {
      const registry = await seeded();
      const sorted = { orderBy: 'maker' } as const;
      expect(makers(await registry.find('Car', { where: { $or: [{ maker: 'Ant' }, { year: { gte: 2015 } }] }, ...sorted }))).toEqual([
        'Ant',
        'Dog',
      ]);
      expect(makers(await registry.find('Car', { where: { $not: { tags: { contains: 'city' } } }, ...sorted }))).toEqual([
        'Cat',
        'Dog',
        'Eel',
      ]);
      // Eel has no year: a range fails for it, so $not of the range keeps it.
      expect(makers(await registry.find('Car', { where: { $not: { year: { gte: 2005 } } }, ...sorted }))).toEqual(['Ant', 'Eel']);
      expect(
        makers(
          await registry.find('Car', {
            where: {
              price: { gte: 20 },
              $or: [{ tags: { contains: 'family' } }, { $not: { year: { lt: 2010 } } }],
              $not: { maker: 'Dog' },
            },
            ...sorted,
          }),
        ),
      ).toEqual(['Bee', 'Cat']);
    });

    it('returns at most DEFAULT_FIND_LIMIT without a limit, and findPage pages through every match once', async () => {
      const registry = await vehicleRegistry();
      const total = DEFAULT_FIND_LIMIT + 5;
      for (let i = 0; i < total; i += 1) await registry.create('Car', { maker: `m${i}`, year: 1900 + (i % 100) });
      expect((await registry.find('Car')).length).toBe(DEFAULT_FIND_LIMIT);
      const first = await registry.findPage('Car');
      expect(first.items.length).toBe(DEFAULT_FIND_LIMIT);
      expect(first.nextCursor).toEqual(expect.any(String));
      const rest = await registry.findPage('Car', { cursor: first.nextCursor! });
      expect(rest.items.length).toBe(5);
      expect(rest.nextCursor).toBeUndefined();
      const all = [...first.items, ...rest.items].map((entity) => entity.id);
      expect(new Set(all).size).toBe(total);
      expect(all).toEqual([...all].sort());
      // Small pages with a filter; an entity created mid-way after the cursor shows up in a later page.
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await registry.findPage('Car', { where: { year: { lt: 1903 } }, limit: 7, ...(cursor ? { cursor } : {}) });
        seen.push(...page.items.map((entity) => entity.values.maker as string));
        cursor = page.nextCursor;
        pages += 1;
        if (pages === 2) await registry.create('Car', { maker: 'late', year: 1901 }, { id: 'zzz-late' });
      } while (cursor);
      expect(seen.length).toBe(33 + 1);
      expect(seen).toContain('late');
      expect(new Set(seen).size).toBe(seen.length);
    });

    it('refuses malformed queries naming the offending part', async () => {
      const registry = await seeded();
      const cases: [unknown, string][] = [
        [{ where: { colour: 'red' } }, 'where.colour: Car has no property colour'],
        [{ where: { year: '2001' } }, 'where.year: must be a number'],
        [{ where: { year: { between: [1, 2] } } }, 'where.year.between: unknown operator'],
        [{ where: { tags: 'city' } }, 'where.tags: tags is a list; use contains'],
        [{ where: { electric: { gt: true } } }, 'where.electric.gt: electric has no order'],
        [{ where: { maker: { in: [] } } }, 'where.maker.in: must be a list of 1 to 1000 values'],
        [{ where: { total: { gt: 1 } } }, 'where.total: total is computed'],
        [{ orderBy: 'tags' }, 'orderBy[0]: tags is a list'],
        [{ orderBy: { property: 'year', direction: 'up' } }, 'orderBy[0].direction: must be asc or desc'],
        [{ limit: 0 }, 'limit: must be a positive integer'],
        [{ sort: 'year' }, 'sort: unknown key'],
        [{ where: { $or: [] } }, 'where.$or: must be a list of 1 to 100 where objects'],
        [{ where: { $or: [{ maker: 'Ant' }, { colour: 'red' }] } }, 'where.$or[1].colour: Car has no property colour'],
        [{ where: { $not: { year: { gt: '2000' } } } }, 'where.$not.year.gt: must be a number'],
        [{ where: { $not: [{ maker: 'Ant' }] } }, 'where.$not: must be an object'],
        [{ where: { $and: [] } }, 'where.$and: unknown combinator (allowed: $or, $not)'],
        [{ cursor: 'not a cursor' }, 'cursor: is not a cursor from findPage'],
        [{ cursor: 17 }, 'cursor: must be a nextCursor string'],
        [{ cursor: Buffer.from('{"t":"Truck","a":"x"}').toString('base64url') }, 'cursor: was made for a query on Truck, not Car'],
        [{ cursor: Buffer.from('{"t":"Car","a":"x"}').toString('base64url'), orderBy: 'year' }, 'cursor: pages are in id order'],
      ];
      for (const [query, message] of cases) {
        await expect(registry.find('Car', query as never), JSON.stringify(query)).rejects.toThrow(AomQueryError);
        await expect(registry.find('Car', query as never)).rejects.toThrow(message);
      }
    });
  });

  describe('relationships (accountability)', () => {
    it('checks reference targets, their types and cardinality, and follows links both ways', async () => {
      const registry = await vehicleRegistry();
      const ada = await registry.create('Person', { name: 'Ada' });
      const bob = await registry.create('Person', { name: 'Bob' });
      const acme = await registry.create('Company', { name: 'Acme' });
      const job = await registry.create('Employment', { employer: acme.id, employee: ada.id, reports: [bob.id], from: '2020-01-01' });
      expect((await registry.related(job.id, 'employer')).map((entity) => entity.values.name)).toEqual(['Acme']);
      expect((await registry.related(job.id, 'reports')).map((entity) => entity.values.name)).toEqual(['Bob']);
      expect(await registry.referrers(bob.id)).toEqual([{ type: 'Employment', id: job.id, property: 'reports' }]);
      expect(await issuesOf(() => registry.create('Employment', { employer: ada.id, employee: 'ghost', from: '2020-01-01' }))).toEqual([
        ['employer', 'reference'],
        ['employee', 'reference'],
      ]);
      expect(
        await issuesOf(() => registry.create('Employment', { employer: acme.id, from: '2020-01-01', reports: [ada.id, bob.id, ada.id] })),
      ).toEqual([
        ['employee', 'required'],
        ['reports', 'cardinality'],
      ]);
      expect(
        await issuesOf(() => registry.create('Employment', { employer: acme.id, employee: ada.id, from: '2020-01-01', to: '2019-01-01' })),
      ).toEqual([['*', 'rule:period']]);
      expect(await issuesOf(() => registry.delete(bob.id))).toEqual([['*', 'referenced']]);
      await registry.update(job.id, { reports: [] });
      await registry.delete(bob.id);
      await registry.defineType({ name: 'Team', properties: { members: { type: 'list', of: { type: 'reference', to: 'Person' } } } });
      const team = await registry.create('Team', { members: [ada.id] });
      expect(await issuesOf(() => registry.create('Team', { members: [acme.id] }))).toEqual([['members[0]', 'reference']]);
      expect(await registry.referrers(ada.id)).toContainEqual({ type: 'Team', id: team.id, property: 'members' });
    });
  });

  describe('operations', () => {
    it('runs expression operations, computed properties and named strategies', async () => {
      const registry = await vehicleRegistry();
      registry.strategies.register('percentOff', async ({ entity, registry: acting, args }) => {
        const price = entity.get('price') as number;
        const updated = await acting.update(entity.id, { price: price * (1 - (args[0] as number) / 100) });
        return updated.get('price');
      });
      const car = await registry.create('Car', { maker: 'Ant', price: 100, quantity: 3 });
      expect(car.get('total')).toBe(300);
      expect(await registry.run(car.id, 'price_with_tax')).toBe(120);
      await expect(registry.run(car.id, 'discount', 10)).rejects.toBeInstanceOf(AomAccessError);
      expect(await registry.as({ roles: ['sales'] }).run(car.id, 'discount', 10)).toBe(90);
      await expect(registry.run(car.id, 'fly')).rejects.toThrow('operation not found: Car.fly');
      expect(() => registry.strategies.register('percentOff', () => 0)).toThrow('already registered');
    });

    it('reports a strategy bound by name but never registered', async () => {
      const registry = await vehicleRegistry();
      const car = await registry.create('Car', { maker: 'Ant', price: 1 });
      await expect(registry.as({ roles: ['sales'] }).run(car.id, 'discount')).rejects.toThrow(
        'strategy not found: percentOff (bound to Car.discount)',
      );
    });
  });

  describe('property-level access control', () => {
    it('hides, refuses and audits by role', async () => {
      const reads: SensitiveRead[] = [];
      const registry = await vehicleRegistry({ onSensitiveRead: (read) => reads.push(read) });
      await expect(registry.create('Car', { maker: 'Ant', vin: VIN })).rejects.toMatchObject({
        name: 'AomAccessError',
        property: 'vin',
        action: 'write',
        roles: ['admin'],
      });
      const car = await registry.as(admin).create('Car', { maker: 'Ant', vin: VIN, cost: 40, price: 100 });
      expect(car.values).not.toHaveProperty('vin');
      expect(car.values).not.toHaveProperty('cost');

      const anonymous = await registry.get(car.id);
      expect(() => anonymous.get('vin')).toThrow(AomAccessError);
      expect(() => anonymous.get('cost')).toThrow('read of Car');
      await expect(registry.find('Car', { where: { cost: { gt: 1 } } })).rejects.toMatchObject({ action: 'query', property: 'cost' });
      await expect(registry.as({ roles: ['sales'] }).run(car.id, 'margin')).rejects.toMatchObject({ action: 'run' });
      await expect(registry.as({ roles: ['finance'] }).run(car.id, 'margin')).resolves.toBe(60);
      await expect(registry.update(car.id, { vin: VIN })).rejects.toBeInstanceOf(AomAccessError);

      const auditor = await registry.as({ id: 'ivy', roles: ['auditor'] }).get(car.id);
      expect(auditor.get('vin')).toBe(VIN);
      expect(auditor.get('vin')).toBe(VIN);
      const trail = Facets.of(auditor).require(AuditFacet);
      expect(trail.entries().map((entry) => [entry.action, entry.details.property, entry.details.principal])).toEqual([
        ['read-sensitive', 'vin', 'ivy'],
        ['read-sensitive', 'vin', 'ivy'],
      ]);
      expect(reads).toEqual([
        { entityType: 'Car', entityId: car.id, property: 'vin', principal: 'ivy', roles: ['auditor'] },
        { entityType: 'Car', entityId: car.id, property: 'vin', principal: 'ivy', roles: ['auditor'] },
      ]);
      expect(Facets.existing(anonymous)?.has(AuditFacet) ?? false).toBe(false);
      expect((await registry.asSystem().get(car.id)).get('cost')).toBe(40);
      expect(() => registry.as({ roles: 'admin' } as never)).toThrow('principal.roles');
    });

    it('audits a computed property as a read of the sensitive properties it is computed from', async () => {
      const reads: SensitiveRead[] = [];
      const registry = await AomRegistry.open({ onSensitiveRead: (read) => reads.push(read) });
      await registry.defineType({
        name: 'Patient',
        properties: {
          name: { type: 'string' },
          diagnosis: { type: 'string', sensitive: true },
          diagnosed: { type: 'boolean', computed: 'exists(diagnosis)' },
        },
      });
      const patient = await registry.create('Patient', { name: 'Ann', diagnosis: 'flu' });
      expect(patient.get('diagnosed')).toBe(true);
      expect(
        Facets.of(patient)
          .require(AuditFacet)
          .entries()
          .map((entry) => entry.details.property),
      ).toEqual(['diagnosis']);
      expect(reads.map((read) => read.property)).toEqual(['diagnosis']);
    });

    it('audits a query that matches or orders by a sensitive property, on every entity it returns', async () => {
      const reads: SensitiveRead[] = [];
      const registry = await AomRegistry.open({ onSensitiveRead: (read) => reads.push(read) });
      await registry.defineType({
        name: 'Patient',
        properties: { name: { type: 'string' }, diagnosis: { type: 'string', sensitive: true } },
      });
      const ann = await registry.create('Patient', { name: 'Ann', diagnosis: 'flu' });
      await registry.create('Patient', { name: 'Bob', diagnosis: 'cold' });
      const found = await registry.as({ id: 'eve', roles: [] }).find('Patient', { where: { diagnosis: 'flu' } });
      expect(found.map((patient) => patient.id)).toEqual([ann.id]);
      expect(
        Facets.of(found[0]!)
          .require(AuditFacet)
          .entries()
          .map((entry) => entry.details.property),
      ).toEqual(['diagnosis']);
      expect(reads).toEqual([{ entityType: 'Patient', entityId: ann.id, property: 'diagnosis', principal: 'eve', roles: [] }]);
      reads.length = 0;
      await registry.find('Patient', { where: { name: { exists: true } } });
      expect(reads).toEqual([]);
      await registry.find('Patient', { orderBy: 'diagnosis' });
      expect(reads.map((read) => read.property)).toEqual(['diagnosis', 'diagnosis']);
    });

    it('lets callers attach their own facets to entities', async () => {
      const registry = await vehicleRegistry();
      class Note {
        text = '';
      }
      const car = await registry.create('Car', { maker: 'Ant' });
      car.facets.attach(Note).text = 'checked';
      expect(Facets.of(car).require(Note).text).toBe('checked');
      expect(car.facets).toBe(Facets.of(car));
    });
  });

  it('exposes the type square: entity types, property types, entities and properties', async () => {
    const registry = await vehicleRegistry();
    const car = await registry.create('Car', { maker: 'Ant', year: 2001 });
    const properties = car.properties();
    expect(properties.map((property) => [property.name, property.type.kind, property.type.declaredBy])).toEqual([
      ['maker', 'string', 'Vehicle'],
      ['year', 'integer', 'Vehicle'],
      ['fuel_type', 'enum', 'Car'],
      ['electric', 'boolean', 'Car'],
      ['quantity', 'integer', 'Car'],
    ]);
    expect(JSON.parse(JSON.stringify(car))).toEqual({ id: car.id, type: 'Car', version: 1, revision: 1, values: car.values });
    expect(registry.types().map((type) => type.name)).toEqual(['Vehicle', 'Car', 'Person', 'Company', 'Employment']);
    expect(() => car.get('nothing')).toThrow(AomNotFoundError);
  });

  it('checks its options', async () => {
    await expect(AomRegistry.open({ store: {} as never })).rejects.toThrow('options.store is not an AomStore (missing init, saveType');
    await expect(AomRegistry.open({ clock: 'now' as never })).rejects.toThrow('options.clock must be a function');
    await expect(AomRegistry.open(null as never)).rejects.toThrow('options must be an object');
    const registry = await vehicleRegistry();
    await expect(registry.migrateAll('Car', { batchSize: 0 })).rejects.toThrow('batchSize must be a positive integer');
  });

  it('keeps working when the store is reopened by another registry', async () => {
    const { MemoryAomStore } = await import('../src/index.js');
    const store = new MemoryAomStore();
    const first = await vehicleRegistry({ store });
    const car = await first.create('Car', { maker: 'Ant' });
    const second = await AomRegistry.open({ store });
    expect((await second.get(car.id)).values.maker).toBe('Ant');
    await second.defineType({ name: 'Person', properties: { name: { type: 'string', required: true }, email: { type: 'string' } } });
    const person = await second.create('Person', { name: 'Ada', email: 'ada@example.org' });
    // The first registry has not seen Person v2; loading an entity written against it reloads the types.
    expect((await first.get(person.id)).values.email).toBe('ada@example.org');
    expect(first.type('Person').version).toBe(2);
  });
});

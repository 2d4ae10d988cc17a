import { describe, expect, it } from 'vitest';
import { AomDefinitionError, AomRegistry, type EntityTypeDef, MemoryAomStore } from '../src/index.js';
import { SqliteAomStore } from '../src/store/sqlite.js';
import { issuesOf, vehicleRegistry } from './support/fixtures.js';

const product: EntityTypeDef = {
  name: 'Product',
  properties: { name: { type: 'string', required: true }, colour: { type: 'string' }, price: { type: 'float' } },
};

describe('schema evolution', () => {
  it('versions additive changes without a migration and fills new defaults lazily', async () => {
    const store = new MemoryAomStore();
    const registry = await AomRegistry.open({ store });
    expect((await registry.defineType(product)).version).toBe(1);
    expect((await registry.defineType({ ...product })).version).toBe(1);
    const old = await registry.create('Product', { name: 'Ant farm', price: 9.5 });
    const v2 = await registry.defineType({
      ...product,
      properties: { ...product.properties, stock: { type: 'integer', required: true, default: 0 }, note: { type: 'string' } },
    });
    expect(v2.version).toBe(2);
    expect(registry.type('Product', 1).property('stock')).toBeUndefined();
    expect((await store.load(old.id))!.typeVersion).toBe(1);
    const loaded = await registry.get(old.id);
    expect(loaded.version).toBe(2);
    expect(loaded.values).toEqual({ name: 'Ant farm', price: 9.5, stock: 0 });
    expect(await store.load(old.id)).toMatchObject({ typeVersion: 2, revision: 2, values: { stock: 0 } });
  });

  it('refuses a change that is not additive unless it declares a migration', async () => {
    const registry = await AomRegistry.open();
    await registry.defineType(product);
    const breaking = {
      ...product,
      properties: {
        name: { type: 'string' as const },
        price: { type: 'integer' as const },
        sku: { type: 'string' as const, required: true },
      },
    };
    await expect(registry.defineType(breaking)).rejects.toThrow(AomDefinitionError);
    await expect(registry.defineType(breaking)).rejects.toThrow(
      'type Product: migration: the change is not additive (property colour was removed; property price changed from float to integer; property sku is new and required but has no default); declare a migration',
    );
    expect(registry.type('Product').version).toBe(1);
  });

  it('treats a tightened constraint, a newly required property or a new rule as not additive', async () => {
    const registry = await AomRegistry.open();
    await registry.defineType({
      name: 'Item',
      properties: {
        code: { type: 'string', maxLength: 8 },
        qty: { type: 'integer', min: 0 },
        tags: { type: 'list', of: { type: 'string' } },
        note: { type: 'string' },
      },
    });
    const tightened = {
      name: 'Item',
      properties: {
        code: { type: 'string' as const, maxLength: 4, pattern: '^[A-Z]+$' },
        qty: { type: 'integer' as const, min: 1 },
        tags: { type: 'list' as const, of: { type: 'string' as const, minLength: 2 }, maxItems: 3 },
        note: { type: 'string' as const, required: true },
      },
      rules: [{ name: 'some', expression: 'qty < 100' }],
    };
    await expect(registry.defineType(tightened)).rejects.toThrow(
      'type Item: migration: the change is not additive (property code maxLength tightened to 4; property code pattern changed to ^[A-Z]+$; ' +
        'property qty min tightened to 1; property tags maxItems tightened to 3; property tags[] minLength tightened to 2; ' +
        'property note became required but has no default; rule some is new); declare a migration',
    );
    // Loosening, or making a property required with a default the migration fills in, stays additive.
    const loosened = await registry.defineType({
      name: 'Item',
      properties: {
        code: { type: 'string', maxLength: 16 },
        qty: { type: 'integer' },
        tags: { type: 'list', of: { type: 'string' } },
        note: { type: 'string', required: true, default: '' },
      },
    });
    expect(loosened.version).toBe(2);
    // Declaring a migration (here one that fixes what the new bound would refuse) lets the change through.
    const old = await registry.create('Item', { code: 'abcdefghij', qty: 0 });
    await registry.defineType({
      name: 'Item',
      properties: {
        code: { type: 'string', maxLength: 4 },
        qty: { type: 'integer' },
        tags: { type: 'list', of: { type: 'string' } },
        note: { type: 'string' },
      },
      migration: [{ op: 'set', property: 'code', expression: 'if(len(code) > 4, "", code)' }],
    });
    expect((await registry.get(old.id)).values).toMatchObject({ code: '' });
  });

  it('migrates lazily on load, eagerly on demand, through several versions, and keeps old versions readable', async () => {
    const store = new MemoryAomStore();
    const registry = await AomRegistry.open({ store });
    await registry.defineType(product);
    const ids: string[] = [];
    for (const [name, colour, price] of [
      ['a', 'red', 1.25],
      ['b', 'blue', 2],
      ['c', undefined, 3.5],
    ] as const) {
      ids.push((await registry.create('Product', { name, colour, price })).id);
    }
    await registry.defineType({
      name: 'Product',
      properties: { name: { type: 'string', required: true }, color: { type: 'string' }, price_cents: { type: 'integer', min: 0 } },
      migration: [
        { op: 'rename', from: 'colour', to: 'color' },
        { op: 'set', property: 'price_cents', expression: 'round(price * 100)' },
        { op: 'remove', property: 'price' },
      ],
    });
    await registry.defineType({
      name: 'Product',
      properties: { title: { type: 'string', required: true }, color: { type: 'string' }, price_cents: { type: 'integer', min: 0 } },
      migration: [
        { op: 'set', property: 'title', expression: 'upper(name)' },
        { op: 'remove', property: 'name' },
      ],
    });
    expect((await registry.get(ids[0]!)).values).toEqual({ title: 'A', color: 'red', price_cents: 125 });
    expect((await store.load(ids[0]!))!.typeVersion).toBe(3);
    expect((await store.load(ids[1]!))!.typeVersion).toBe(1);
    expect(await registry.migrateAll('Product', { batchSize: 1 })).toBe(2);
    expect(await store.olderThan('Product', 3, 10)).toEqual([]);
    expect((await store.load(ids[2]!))!.values).toEqual({ title: 'C', price_cents: 350 });
    expect(registry.type('Product', 1).property('colour')?.kind).toBe('string');
    expect(registry.type('Product', 2).property('name')?.required).toBe(true);
    expect(() => registry.type('Product', 4)).toThrow('version not found: Product@4');
  });

  it('runs migration strategies written in code, and refuses unknown ones up front', async () => {
    const registry = await AomRegistry.open();
    await registry.defineType({ name: 'Person', properties: { name: { type: 'string' } } });
    const ada = await registry.create('Person', { name: 'Ada Lovelace' });
    const next: EntityTypeDef = {
      name: 'Person',
      properties: { first: { type: 'string' }, last: { type: 'string' } },
      migration: [{ op: 'strategy', name: 'splitName' }],
    };
    await expect(registry.defineType(next)).rejects.toThrow('migration[0].name: no migration strategy named splitName is registered');
    registry.migrations.register('splitName', (values, context) => {
      expect(context).toEqual({ type: 'Person', fromVersion: 1 });
      const [first, ...rest] = String(values.name).split(' ');
      return { first, last: rest.join(' ') };
    });
    const bob = await registry.create('Person', { name: 'Bob Bobson' });
    await registry.defineType(next);
    expect((await registry.get(ada.id)).values).toEqual({ first: 'Ada', last: 'Lovelace' });
    registry.migrations.register('splitName', (values) => ({ last: String(values.name).split(' ')[0] }), { replace: true });
    expect((await registry.get(bob.id)).values).toEqual({ last: 'Bob' });
  });

  it('rebuilds validators when a type changes, including subtypes when their parent does', async () => {
    const registry = await vehicleRegistry();
    const before = await registry.create('Car', { maker: 'Ant', year: 2050 });
    const carV1 = registry.type('Car');
    const validatorV1 = carV1.validator;
    expect(carV1.validator).toBe(validatorV1);
    await registry.defineType({
      name: 'Vehicle',
      abstract: true,
      properties: {
        maker: { type: 'string', required: true, minLength: 1, maxLength: 40 },
        year: { type: 'integer', min: 1886, max: 2030 },
        wheels: { type: 'integer', min: 2, default: 4 },
      },
      // A new maximum is not additive: an empty migration declares that old data may break it.
      migration: [],
    });
    const carV2 = registry.type('Car');
    expect(carV2.version).toBe(2);
    expect(carV2.parent?.version).toBe(2);
    expect(carV2.validator).not.toBe(validatorV1);
    expect(await issuesOf(() => registry.create('Car', { maker: 'Bee', year: 2050, wheels: 1 }))).toEqual([
      ['year', 'max'],
      ['wheels', 'min'],
    ]);
    const migrated = await registry.get(before.id);
    expect(migrated.version).toBe(2);
    expect(migrated.values.wheels).toBe(4);
    // Old data that the new rules reject stays readable; the next write must fix it.
    expect(await issuesOf(() => registry.update(before.id, { price: 1 }))).toEqual([['year', 'max']]);
    await registry.update(before.id, { year: 2020 });
  });

  it('serialises concurrent definitions in one registry', async () => {
    const registry = await vehicleRegistry();
    const changed = (max: number) => ({
      name: 'Vehicle',
      abstract: true,
      properties: { maker: { type: 'string' as const, required: true }, year: { type: 'integer' as const, min: 1886, max } },
      migration: [],
    });
    const types = await Promise.all([
      registry.defineType(changed(2050)),
      registry.defineType(changed(2040)),
      registry.defineType({ name: 'Boat', extends: 'Vehicle' }),
    ]);
    expect(types.map((type) => `${type.name}@${type.version}`)).toEqual(['Vehicle@2', 'Vehicle@3', 'Boat@1']);
    expect(registry.type('Car').version).toBe(3);
    expect(registry.type('Boat').parent?.version).toBe(3);
  });

  it('refuses to define a version another registry defined first, and reloads', async () => {
    const store = new MemoryAomStore();
    const one = await AomRegistry.open({ store });
    const two = await AomRegistry.open({ store });
    await one.defineType(product);
    await expect(two.defineType({ ...product, description: 'other' })).rejects.toThrow('version 1 was defined concurrently elsewhere');
    expect(two.type('Product').version).toBe(1);
    expect((await two.defineType({ ...product, description: 'other' })).version).toBe(2);
  });

  it('keeps every version across a restart on a durable store', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'aom-'));
    try {
      const filename = join(dir, 'aom.db');
      const first = await AomRegistry.open({ store: new SqliteAomStore({ filename }) });
      await first.defineType(product);
      const entity = await first.create('Product', { name: 'x', colour: 'red' });
      await first.defineType({
        name: 'Product',
        properties: { name: { type: 'string', required: true }, color: { type: 'string' }, price: { type: 'float' } },
        migration: [{ op: 'rename', from: 'colour', to: 'color' }],
      });
      await first.close();
      const second = await AomRegistry.open({ store: new SqliteAomStore({ filename }) });
      expect(second.type('Product').version).toBe(2);
      expect(Object.keys(second.type('Product', 1).def.properties!)).toEqual(['name', 'colour', 'price']);
      expect((await second.get(entity.id)).values).toEqual({ name: 'x', color: 'red' });
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

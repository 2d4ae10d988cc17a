import { describe, expect, it } from 'vitest';
import { AomRegistry, AomValidationError } from '../src/index.js';
import { issuesOf, vehicleRegistry } from './support/fixtures.js';

describe('value types and constraints', () => {
  it('accepts a valid entity and applies defaults', async () => {
    const registry = await vehicleRegistry();
    const car = await registry.create('Car', {
      maker: 'Ant Motors',
      year: 2024,
      price: 10_000,
      tags: ['a'],
      registered: new Date('2024-03-01T10:00:00Z'),
    });
    expect(car.values).toEqual({
      maker: 'Ant Motors',
      year: 2024,
      price: 10_000,
      tags: ['a'],
      registered: '2024-03-01T10:00:00.000Z',
      fuel_type: 'petrol',
      electric: false,
      quantity: 1,
    });
    expect(car.version).toBe(1);
    expect(car.revision).toBe(1);
  });

  it('reports every problem at once, each naming type, id, property, value and constraint', async () => {
    const registry = await vehicleRegistry();
    let error: AomValidationError | undefined;
    try {
      await registry.create(
        'Car',
        {
          maker: '',
          year: 1800.5,
          fuel_type: 'steam',
          electric: 'yes',
          price: -1,
          quantity: 0,
          registered: '2024-02-30',
          tags: ['ok', 'x'.repeat(11), 3, 'a'],
          wings: 2,
          total: 5,
        },
        { id: 'car-1' },
      );
    } catch (caught) {
      error = caught as AomValidationError;
    }
    expect(error).toBeInstanceOf(AomValidationError);
    const byProperty = Object.fromEntries(error!.issues.map((issue) => [`${issue.property}:${issue.constraint}`, issue]));
    expect(Object.keys(byProperty).sort()).toEqual(
      [
        'electric:type',
        'fuel_type:enum',
        'maker:minLength',
        'price:min',
        'quantity:min',
        'registered:type',
        'tags:maxItems',
        'tags[1]:maxLength',
        'tags[2]:type',
        'total:computed',
        'wings:unknown',
        'year:type',
      ].sort(),
    );
    expect(byProperty['price:min']).toEqual({
      entityType: 'Car',
      entityId: 'car-1',
      property: 'price',
      value: -1,
      constraint: 'min',
      message: 'Car.price must be at least 0',
    });
    expect(error!.message).toContain('12 validation issues');
    // The message alone (what a log keeps) names the type, id, property, value and constraint of the first issue.
    const first = error!.issues[0]!;
    expect(error!.message).toContain(
      `${first.message} (type Car, id car-1, property ${first.property}, value ${JSON.stringify(first.value)}, constraint ${first.constraint}) (and 11 more)`,
    );
  });

  it('keeps the message one bounded line when the bad value is huge or deeply nested', async () => {
    const registry = await AomRegistry.open();
    await registry.defineType({ name: 'Note', properties: { text: { type: 'string' } } });
    let deep: unknown = 'x';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const error = await registry.create('Note', { text: 'ok', extra: deep }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AomValidationError);
    const { message } = error as AomValidationError;
    expect(message).toBe(
      '1 validation issue: Note.extra is not a property of Note (type Note, id (new), property extra, value [[[[...]]]], constraint unknown)',
    );
    const long = await registry.create('Note', { text: 7, other: 'y'.repeat(10_000) }).catch((e: unknown) => e);
    expect((long as Error).message.length).toBeLessThan(200);
  });

  it('checks each value type', async () => {
    const registry = await AomRegistry.open();
    await registry.defineType({
      name: 'All',
      properties: {
        s: { type: 'string', pattern: '^[a-z]+$' },
        i: { type: 'integer' },
        f: { type: 'float', max: 10 },
        b: { type: 'boolean' },
        d: { type: 'date', min: '2000-01-01', max: '2099-12-31' },
        e: { type: 'enum', values: ['x', 'y'] },
        l: { type: 'list', of: { type: 'list', of: { type: 'integer' } }, minItems: 1 },
        r: { type: 'reference', to: 'All' },
      },
    });
    const cases: [Record<string, unknown>, [string, string][]][] = [
      [{ s: 'abc', i: 3, f: 2.5, b: true, d: '2024-02-29', e: 'y', l: [[1], []] }, []],
      [{ s: 'ABC' }, [['s', 'pattern']]],
      [{ s: 5 }, [['s', 'type']]],
      [{ s: 'a\u0000b' }, [['s', 'type']]],
      [{ s: '\ud800' }, [['s', 'type']]],
      [{ i: 2 ** 53 }, [['i', 'type']]],
      [{ i: '3' }, [['i', 'type']]],
      [{ f: Number.NaN }, [['f', 'type']]],
      [{ f: Number.POSITIVE_INFINITY }, [['f', 'type']]],
      [{ f: 10.5 }, [['f', 'max']]],
      [{ b: 0 }, [['b', 'type']]],
      [{ d: '1999-12-31' }, [['d', 'min']]],
      [{ d: '2023-02-29' }, [['d', 'type']]],
      [{ d: '2024-01-01T25:00:00Z' }, [['d', 'type']]],
      [{ d: '2024-01-01T12:00:00+02:00' }, [['d', 'type']]],
      [{ e: 'z' }, [['e', 'enum']]],
      [{ l: [] }, [['l', 'minItems']]],
      [{ l: [[1, 'two']] }, [['l[0][1]', 'type']]],
      [{ l: 'not a list' }, [['l', 'type']]],
      [{ l: [Array.from({ length: 100_000 }).reduce<unknown[]>((inner) => [inner], [])] }, [['l[0][0]', 'type']]],
      [{ r: 'nobody' }, [['r', 'reference']]],
      [{ r: 42 }, [['r', 'type']]],
    ];
    for (const [index, [values, expected]] of cases.entries()) {
      if (expected.length === 0) await registry.create('All', values);
      else expect(await issuesOf(() => registry.create('All', values)), `case ${index}`).toEqual(expected);
    }
  });

  it('reports broken rules with the values they read, and skips rules over already-invalid values', async () => {
    const registry = await vehicleRegistry();
    let error: AomValidationError | undefined;
    await registry.create('Car', { maker: 'A', electric: true, fuel_type: 'diesel' }).catch((caught) => {
      error = caught;
    });
    expect(error!.issues).toEqual([
      {
        entityType: 'Car',
        entityId: null,
        property: '*',
        value: { electric: true, fuel_type: 'diesel' },
        constraint: 'rule:electric_fuel',
        message: 'Car: an electric car runs on electricity',
      },
    ]);
    expect(await issuesOf(() => registry.create('Car', { maker: 'A', electric: 'very', fuel_type: 'diesel' }))).toEqual([
      ['electric', 'type'],
    ]);
  });

  it('refuses abstract types, non-object values and taken ids', async () => {
    const registry = await vehicleRegistry();
    expect(await issuesOf(() => registry.create('Vehicle', { maker: 'A' }))).toEqual([['*', 'abstract']]);
    expect(await issuesOf(() => registry.create('Car', [] as never))).toEqual([['*', 'type']]);
    await registry.create('Car', { maker: 'A' }, { id: 'same' });
    expect(await issuesOf(() => registry.create('Car', { maker: 'B' }, { id: 'same' }))).toEqual([['id', 'unique']]);
  });

  it('keeps a __proto__ key as data, reports it, and never touches prototypes', async () => {
    const registry = await vehicleRegistry();
    const hostile = JSON.parse('{"maker": "A", "__proto__": {"polluted": true}}') as Record<string, unknown>;
    expect(await issuesOf(() => registry.create('Car', hostile))).toEqual([['__proto__', 'unknown']]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('treats names that shadow Object.prototype as ordinary properties, and nothing else', async () => {
    const registry = await AomRegistry.open();
    // As JSON, the way such a definition would arrive; TypeScript's object-literal typing trips on these key names.
    const oddDefinition = JSON.parse(`{
      "name": "Odd",
      "properties": {
        "toString": { "type": "string" },
        "hasOwnProperty": { "type": "integer", "min": 0 },
        "valueOf": { "type": "integer", "computed": "hasOwnProperty * 2" }
      },
      "rules": [{ "name": "short", "expression": "len(toString) < 5" }]
    }`);
    await registry.defineType(oddDefinition);
    const odd = await registry.create('Odd', { toString: 'abc', hasOwnProperty: 2 });
    expect(odd.get('valueOf')).toBe(4);
    expect((await registry.find('Odd', { where: { toString: 'abc', hasOwnProperty: { gte: 1 } } })).map((entity) => entity.id)).toEqual([
      odd.id,
    ]);
    expect(await issuesOf(() => registry.create('Odd', { toString: 'abcdef', constructor: 1 } as never))).toEqual([
      ['constructor', 'unknown'],
      ['*', 'rule:short'],
    ]);
    await expect(registry.find('Odd', { where: { constructor: 1 } as never })).rejects.toThrow(
      'where.constructor: Odd has no property constructor',
    );
    await expect(registry.find('Odd', { where: JSON.parse('{"__proto__": 1}') })).rejects.toThrow(
      'where.__proto__: Odd has no property __proto__',
    );
    expect(() => odd.get('constructor')).toThrow('property not found: Odd.constructor');
  });
});

import { describe, expect, it } from 'vitest';
import { AomDefinitionError, AomRegistry, checkDefinition, type EntityTypeDef, entityType } from '../src/index.js';
import { car } from './support/fixtures.js';

const refused = (raw: unknown, message: string) => {
  expect(() => checkDefinition(raw), JSON.stringify(raw)).toThrow(AomDefinitionError);
  expect(() => checkDefinition(raw)).toThrow(message);
};

describe('type definitions', () => {
  it('names the field of every malformed definition', () => {
    refused(null, '(definition): must be an object');
    refused({ name: '1abc' }, 'type 1abc: name: must be a name');
    refused({ name: 7 }, 'type (unnamed): name: must be a name');
    refused({ name: 'constructor' }, 'name: constructor is reserved');
    refused({ name: 'T', propertys: {} }, 'type T: propertys: unknown key');
    refused({ name: 'T', properties: { a: { type: 'text' } } }, 'properties.a.type: must be one of string, integer');
    refused(JSON.parse('{"name":"T","properties":{"__proto__":{"type":"string"}}}'), 'properties.__proto__: __proto__ is reserved');
    refused({ name: 'T', properties: { a: { type: 'string', minimum: 1 } } }, 'properties.a.minimum: unknown key');
    refused({ name: 'T', properties: { a: { type: 'integer', min: 1.5 } } }, 'properties.a.min: must be a safe integer');
    refused({ name: 'T', properties: { a: { type: 'float', min: 5, max: 1 } } }, 'properties.a.min: min is above max');
    refused({ name: 'T', properties: { a: { type: 'string', pattern: '(' } } }, 'properties.a.pattern: not a valid regular expression');
    refused({ name: 'T', properties: { a: { type: 'enum', values: [] } } }, 'properties.a.values: needs at least one value');
    refused({ name: 'T', properties: { a: { type: 'enum', values: ['x', 'x'] } } }, 'values must be distinct');
    refused(
      { name: 'T', properties: { a: { type: 'reference', to: 'U', cardinality: '3..1' } } },
      'properties.a.cardinality: "3..1" is not a multiplicity',
    );
    refused({ name: 'T', properties: { a: { type: 'list' } } }, 'properties.a.of: must be an object');
    refused(
      { name: 'T', properties: { a: { type: 'list', of: { type: 'reference', to: 'U', cardinality: '0..*' } } } },
      'properties.a.of.cardinality',
    );
    refused({ name: 'T', properties: { a: { type: 'date', min: '2024-13' } } }, 'properties.a.min: must be a date');
    refused(
      { name: 'T', properties: { a: { type: 'integer', computed: '1', default: 1 } } },
      'a computed property takes neither required nor default',
    );
    refused({ name: 'T', properties: { a: { type: 'integer', default: { x: 1 } } } }, 'properties.a.default: must be a string, number');
    refused(
      {
        name: 'T',
        rules: [
          { name: 'r', expression: 'true' },
          { name: 'r', expression: 'false' },
        ],
      },
      'rules[1].name: duplicate rule name r',
    );
    refused(
      { name: 'T', operations: { op: { strategy: 's', expression: '1' } } },
      'operations.op: give exactly one of strategy and expression',
    );
    refused({ name: 'T', migration: [{ op: 'drop', property: 'a' }] }, 'migration[0].op: must be rename, remove, set or strategy');
    refused(
      { name: 'T', properties: { a: { type: 'string', access: { read: [''] } } } },
      'properties.a.access.read[0]: must be a non-empty role name',
    );
    let deep: Record<string, unknown> = { type: 'integer' };
    for (let level = 0; level < 10_000; level += 1) deep = { type: 'list', of: deep };
    expect(() => checkDefinition({ name: 'T', properties: { a: deep } })).toThrow('lists nest deeper than 16 levels');
  });

  it('checks expressions, defaults and inheritance when the type is resolved', async () => {
    const registry = await AomRegistry.open();
    const fails = async (def: EntityTypeDef, message: string) => {
      await expect(registry.defineType(def)).rejects.toThrow(AomDefinitionError);
      await expect(registry.defineType(def)).rejects.toThrow(message);
    };
    await fails(
      { name: 'T', properties: { a: { type: 'integer' } }, rules: [{ name: 'r', expression: 'a >' }] },
      'type T: rules[0].expression: unexpected end',
    );
    await fails({ name: 'T', rules: [{ name: 'r', expression: 'constructor == 1' }] }, 'rules[0].expression: unknown name constructor');
    await fails({ name: 'T', properties: { a: { type: 'integer', computed: 'b * 2' } } }, 'properties.a.computed: unknown name b');
    await fails(
      { name: 'T', properties: { a: { type: 'integer', min: 3, default: 1 } } },
      'properties.a.default: breaks its own min constraint',
    );
    await fails({ name: 'T', extends: 'Nope' }, 'extends: no type named Nope; define the parent first');
    await registry.defineType({ name: 'A', properties: { x: { type: 'string' } } });
    await registry.defineType({ name: 'B', extends: 'A' });
    await fails({ name: 'C', extends: 'A', properties: { x: { type: 'integer' } } }, 'properties.x: already declared by the parent type A');
    await fails(
      { name: 'A', extends: 'B', properties: { x: { type: 'string' } } },
      'extends: B already inherits from A; that would be a cycle',
    );
    await fails(
      { name: 'T', properties: { a: { type: 'integer' } }, operations: { bad: { expression: 'a +' } } },
      'operations.bad.expression',
    );
  });

  it('builds with the fluent builder the same plain JSON a definition file holds', () => {
    const built = car.build();
    expect(JSON.parse(JSON.stringify(built))).toEqual(built);
    expect(checkDefinition(JSON.parse(JSON.stringify(built)))).toEqual(built);
    expect(built.extends).toBe('Vehicle');
    expect(built.properties?.vin).toEqual({
      type: 'string',
      pattern: '^[A-HJ-NPR-Z0-9]{17}$',
      sensitive: true,
      access: { read: ['auditor', 'admin'], write: ['admin'] },
    });
    expect(built.operations?.discount).toEqual({ strategy: 'percentOff', roles: ['sales'] });
    expect(() => entityType('Bad').integer('n', { min: 2, max: 1 }).build()).toThrow('properties.n.min: min is above max');
    expect(
      entityType('Doc')
        .abstract()
        .describe('d')
        .reference('owner', 'Person', { cardinality: '1..*' })
        .migrate({ op: 'remove', property: 'x' })
        .build(),
    ).toEqual({
      name: 'Doc',
      abstract: true,
      description: 'd',
      properties: { owner: { type: 'reference', to: 'Person', cardinality: '1..*' } },
      migration: [{ op: 'remove', property: 'x' }],
    });
  });
});

import { describe, expect, it } from 'vitest';
import { AomRegistry, auditTypeExplosion } from '../src/index.js';

describe('type explosion audit', () => {
  it('reports near-duplicate types with what they share and what to do', async () => {
    const registry = await AomRegistry.open();
    const common = { maker: { type: 'string' }, year: { type: 'integer' }, price: { type: 'float' } } as const;
    await registry.defineType({ name: 'Sedan', properties: { ...common, doors: { type: 'integer' } } });
    await registry.defineType({ name: 'Coupe', properties: { ...common, doors: { type: 'integer' } } });
    await registry.defineType({ name: 'Suv', properties: { ...common, doors: { type: 'integer' }, awd: { type: 'boolean' } } });
    await registry.defineType({ name: 'Pickup', properties: { ...common, doors: { type: 'string' }, bed: { type: 'float' } } });
    await registry.defineType({ name: 'Person', properties: { name: { type: 'string' }, year: { type: 'integer' } } });
    await registry.defineType({ name: 'Base', properties: { maker: { type: 'string' } } });
    await registry.defineType({ name: 'Child', extends: 'Base', properties: {} });

    const report = auditTypeExplosion(registry.types());
    expect(report.types).toBe(7);
    expect(report.nearDuplicates.map((pair) => [pair.a, pair.b, pair.similarity])).toEqual([
      ['Sedan', 'Coupe', 1],
      ['Coupe', 'Suv', 0.8],
      ['Sedan', 'Suv', 0.8],
    ]);
    expect(report.nearDuplicates[0]!.advice).toContain('merge them');
    expect(report.nearDuplicates[2]).toMatchObject({
      onlyInA: [],
      onlyInB: ['awd:boolean'],
      shared: ['maker:string', 'year:integer', 'price:float', 'doors:integer'],
    });
    expect(auditTypeExplosion(registry.types(), { threshold: 0.5 }).nearDuplicates.map((pair) => `${pair.a}/${pair.b}`)).toContain(
      'Sedan/Pickup',
    );
    expect(() => auditTypeExplosion([], { threshold: 0 })).toThrow('threshold');
  });
});

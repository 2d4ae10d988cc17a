import { AomRegistry, type AomRegistryOptions, AomValidationError, type EntityTypeDef, entityType } from '../../src/index.js';

export const vehicle: EntityTypeDef = {
  name: 'Vehicle',
  abstract: true,
  properties: {
    maker: { type: 'string', required: true, minLength: 1, maxLength: 40 },
    year: { type: 'integer', min: 1886, max: 2100 },
  },
};

export const car = entityType('Car')
  .extends('Vehicle')
  .enum('fuel_type', ['petrol', 'diesel', 'electric'], { default: 'petrol' })
  .boolean('electric', { default: false })
  .float('price', { min: 0 })
  .integer('quantity', { min: 1, default: 1 })
  .string('vin', { pattern: '^[A-HJ-NPR-Z0-9]{17}$', sensitive: true, access: { read: ['auditor', 'admin'], write: ['admin'] } })
  .float('cost', { access: { read: ['finance'] } })
  .date('registered')
  .list('tags', { type: 'string', maxLength: 10 }, { maxItems: 3 })
  .computed('total', 'float', 'price * quantity')
  .rule('electric_fuel', 'not(electric) or fuel_type == "electric"', 'an electric car runs on electricity')
  .operation('price_with_tax', 'price * 1.2')
  .operation('margin', 'price - cost', ['finance'])
  .strategy('discount', 'percentOff', ['sales']);

export const person: EntityTypeDef = { name: 'Person', properties: { name: { type: 'string', required: true } } };
export const company: EntityTypeDef = { name: 'Company', properties: { name: { type: 'string', required: true } } };
/** Fowler's accountability: a typed, time-bounded link between two parties. */
export const employment: EntityTypeDef = {
  name: 'Employment',
  properties: {
    employer: { type: 'reference', to: 'Company', cardinality: '1' },
    employee: { type: 'reference', to: 'Person', cardinality: '1' },
    reports: { type: 'reference', to: 'Person', cardinality: '0..2' },
    from: { type: 'date', required: true },
    to: { type: 'date' },
  },
  rules: [{ name: 'period', expression: 'to == null or to >= from' }],
};

export async function vehicleRegistry(options: AomRegistryOptions = {}): Promise<AomRegistry> {
  const registry = await AomRegistry.open(options);
  await registry.defineType(vehicle);
  await registry.defineType(car);
  await registry.defineType(person);
  await registry.defineType(company);
  await registry.defineType(employment);
  return registry;
}

/** The issues of the AomValidationError `work` throws, as [property, constraint] pairs. */
export async function issuesOf(work: () => Promise<unknown>): Promise<[string, string][]> {
  try {
    await work();
  } catch (error) {
    if (!(error instanceof AomValidationError)) throw error;
    return error.issues.map((issue) => [issue.property, issue.constraint]);
  }
  throw new Error('expected an AomValidationError');
}

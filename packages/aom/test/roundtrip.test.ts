import { postgres } from '@myrmex/test-utils';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AomRegistry, AomValidationError, type EntityTypeDef } from '../src/index.js';
import type { StoreFactory } from './support/store-contract.js';
import { memoryStore, postgresStores, sqliteStore } from './support/stores.js';

const sample: EntityTypeDef = {
  name: 'Sample',
  properties: {
    s: { type: 'string', maxLength: 40 },
    i: { type: 'integer' },
    f: { type: 'float' },
    b: { type: 'boolean' },
    d: { type: 'date' },
    e: { type: 'enum', values: ['x', 'y', 'ü'] },
    l: { type: 'list', of: { type: 'string' }, maxItems: 5 },
    n: { type: 'list', of: { type: 'list', of: { type: 'float' } } },
  },
};

/** Mostly valid values, sometimes not, so the property sees both acceptance and rejection. */
const mostly = <T, U>(valid: fc.Arbitrary<T>, invalid: fc.Arbitrary<U>) =>
  fc.oneof({ arbitrary: valid, weight: 12 }, { arbitrary: invalid, weight: 1 }) as fc.Arbitrary<T | U>;
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.string({ maxLength: 30 }),
  fc.constantFrom('🐜', '', 'naïve \\ "q"'),
);
const badText = fc.constantFrom('\u0000', '\ud800x', 'x\udfff');
const values = fc.record(
  {
    s: mostly(text, fc.oneof(badText, fc.integer())),
    i: mostly(
      fc.oneof(fc.integer(), fc.constantFrom(Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER)),
      fc.constantFrom(2 ** 53, 1.5, Number.NaN),
    ),
    f: mostly(
      fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(-0, 5e-324, 1.7976931348623157e308, 0.1 + 0.2)),
      fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY),
    ),
    b: mostly(fc.boolean(), fc.constant('true')),
    d: mostly(
      fc.oneof(
        fc.date({ min: new Date('0001-01-01'), max: new Date('9999-12-31'), noInvalidDate: true }).map((date) => date.toISOString()),
        fc
          .date({ min: new Date('1900-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
          .map((date) => date.toISOString().slice(0, 10)),
      ),
      fc.constantFrom('2023-02-29', 'yesterday', '2024-01-01T00:00:00+01:00'),
    ),
    e: mostly(fc.constantFrom('x', 'y', 'ü'), fc.constant('z')),
    l: mostly(fc.array(text, { maxLength: 5 }), fc.array(fc.integer(), { minLength: 1, maxLength: 2 })),
    n: fc.array(fc.array(fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constant(-0)), { maxLength: 3 }), {
      maxLength: 3,
    }),
  },
  { requiredKeys: [] },
);

/** What create should store: -0 written as 0, as JSON and every store would. */
const normal = (value: unknown): unknown => (Array.isArray(value) ? value.map(normal) : Object.is(value, -0) ? 0 : value);

function roundTrip(factory: StoreFactory, runs: number) {
  it('any entity the validator accepts comes back unchanged', async () => {
    const { store, dispose } = await factory();
    const registry = await AomRegistry.open({ store });
    await registry.defineType(sample);
    let accepted = 0;
    let rejected = 0;
    try {
      await fc.assert(
        fc.asyncProperty(values, async (input) => {
          let created: Awaited<ReturnType<typeof registry.create>>;
          try {
            created = await registry.create('Sample', input);
          } catch (error) {
            if (!(error instanceof AomValidationError)) throw error;
            rejected += 1;
            return;
          }
          accepted += 1;
          const expected = Object.fromEntries(Object.entries(input).map(([key, value]) => [key, normal(value)]));
          expect(created.values).toStrictEqual(expected);
          const loaded = await registry.get(created.id);
          expect({ ...loaded.values }).toStrictEqual(expected);
          const [found] = await registry
            .find('Sample', { where: input.e === undefined ? {} : { e: input.e as string }, orderBy: '-e', limit: 1_000_000 })
            .then((all) => all.filter((entity) => entity.id === created.id));
          expect({ ...found!.values }).toStrictEqual(expected);
        }),
        { numRuns: runs },
      );
    } finally {
      await dispose();
    }
    // The generators are meant to produce both; a property that only ever rejects proves nothing.
    expect(accepted).toBeGreaterThan(runs / 10);
    expect(rejected).toBeGreaterThan(runs / 10);
  });
}

const pg = await postgres();

describe('round trip: memory', () => roundTrip(memoryStore, 300));
describe('round trip: SQLite', () => roundTrip(sqliteStore, 300));
pg.describe('round trip: PostgreSQL', () => roundTrip(postgresStores(pg), 120));

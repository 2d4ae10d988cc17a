import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AomStore, EntityRecord, StoreQuery, TypeVersionRecord } from '../../src/index.js';
import { compareBy, matches } from '../../src/query/match.js';
import type { Condition, SortKey } from '../../src/query/spec.js';

/** Makes an initialised, empty store; `dispose` closes it. */
export type StoreFactory = () => Promise<{ store: AomStore; dispose(): Promise<void> }>;

const record = (id: string, values: Record<string, unknown>, type = 'Thing', typeVersion = 1): EntityRecord => ({
  id,
  type,
  typeVersion,
  revision: 1,
  values,
});

const query = (partial: Partial<StoreQuery>): StoreQuery => ({
  types: ['Thing'],
  conditions: [],
  orderBy: [],
  limit: undefined,
  ...partial,
});

async function withStore<T>(factory: StoreFactory, body: (store: AomStore) => Promise<T>): Promise<T> {
  const { store, dispose } = await factory();
  try {
    return await body(store);
  } finally {
    await dispose();
  }
}

const ids = (records: readonly EntityRecord[]) => records.map((r) => r.id);

/** The contract every AomStore passes; the in-memory matcher is the reference for queries. */
export function storeContract(factory: StoreFactory, options: { propertyRuns: number }): void {
  const typeRecord: TypeVersionRecord = {
    name: 'Thing',
    version: 1,
    def: { name: 'Thing', properties: { zeta: { type: 'string' }, alpha: { type: 'integer', min: 0 } } },
    parentVersion: null,
    migration: [],
    definedAt: '2026-11-25T12:00:00.000Z',
  };

  describe('types', () => {
    it('saves each name and version once and loads them back with property order intact', () =>
      withStore(factory, async (store) => {
        expect(await store.saveType(typeRecord)).toBe(true);
        expect(await store.saveType({ ...typeRecord, definedAt: 'other' })).toBe(false);
        expect(await store.saveType({ ...typeRecord, version: 2, migration: [{ op: 'remove', property: 'zeta' }] })).toBe(true);
        const loaded = (await store.loadTypes()).sort((a, b) => a.version - b.version);
        expect(loaded).toEqual([typeRecord, { ...typeRecord, version: 2, migration: [{ op: 'remove', property: 'zeta' }] }]);
        expect(Object.keys(loaded[0]!.def.properties!)).toEqual(['zeta', 'alpha']);
      }));
  });

  describe('entities', () => {
    it('inserts once, loads, replaces and removes only at the expected revision', () =>
      withStore(factory, async (store) => {
        const first = record('a', { s: 'x', n: 1.5, tags: ['p', 'q'] });
        expect(await store.insert(first)).toBe(true);
        expect(await store.insert({ ...first, values: {} })).toBe(false);
        expect(await store.load('a')).toEqual(first);
        expect(await store.load('missing')).toBeUndefined();
        const second = { ...first, revision: 2, typeVersion: 3, values: { s: 'y' } };
        expect(await store.replace(second, 2)).toBe(false);
        expect(await store.replace(second, 1)).toBe(true);
        expect(await store.load('a')).toEqual(second);
        expect(await store.remove('a', 1)).toBe(false);
        expect(await store.remove('a', 2)).toBe(true);
        expect(await store.load('a')).toBeUndefined();
        expect(await store.remove('a', 2)).toBe(false);
      }));

    it('lets exactly one of several racing writers at the same revision win', () =>
      withStore(factory, async (store) => {
        await store.insert(record('r', { n: 0 }));
        const writers = Array.from({ length: 8 }, (_, n) => store.replace({ ...record('r', { n: n + 1 }), revision: 2 }, 1));
        const won = (await Promise.all(writers)).map((ok, n) => (ok ? n + 1 : 0)).filter((n) => n > 0);
        expect(won).toHaveLength(1);
        expect(await store.load('r')).toMatchObject({ revision: 2, values: { n: won[0] } });
        const removals = await Promise.all([store.remove('r', 2), store.remove('r', 2)]);
        expect(removals.filter(Boolean)).toHaveLength(1);
      }));

    it('writes history with its entity write: none for a refused insert or a stale replace, and remove clears it', () =>
      withStore(factory, async (store) => {
        const at = '2026-12-04T01:00:00.000Z';
        const created = [
          { property: 's', revision: 1, at, value: 'x' },
          { property: 'tags', revision: 1, at, value: ['p', { deep: [1.5, 'é'] }] },
        ];
        expect(await store.insert(record('h', { s: 'x', tags: ['p', { deep: [1.5, 'é'] }] }), created)).toBe(true);
        expect(await store.insert(record('h', {}), [{ property: 's', revision: 1, at, value: 'lost' }])).toBe(false);
        const second = { ...record('h', { tags: ['p'] }), revision: 2 };
        const removed = { property: 's', revision: 2, at };
        expect(await store.replace(second, 5, [{ ...removed, at: 'stale' }])).toBe(false);
        expect(await store.replace(second, 1, [removed, { property: 'tags', revision: 2, at, value: ['p'] }])).toBe(true);
        expect(
          await store.replace({ ...second, revision: 3, values: { s: 'z', tags: ['p'] } }, 2, [
            { property: 's', revision: 3, at, value: 'z' },
          ]),
        ).toBe(true);
        expect(await store.history('h', 's')).toEqual([created[0], removed, { property: 's', revision: 3, at, value: 'z' }]);
        expect(await store.history('h', 'tags')).toEqual([created[1], { property: 'tags', revision: 2, at, value: ['p'] }]);
        expect(await store.history('h', 'none')).toEqual([]);
        expect(await store.remove('h', 3)).toBe(true);
        expect(await store.history('h', 's')).toEqual([]);
        // The id can be used again, with a history of its own.
        expect(await store.insert(record('h', { s: 'new' }), [{ property: 's', revision: 1, at, value: 'new' }])).toBe(true);
        expect(await store.history('h', 's')).toEqual([{ property: 's', revision: 1, at, value: 'new' }]);
      }));

    it('keeps strings, floats and nesting byte for byte', () =>
      withStore(factory, async (store) => {
        const values = {
          s: 'naïve 🐜 \\ " \n \u2028 日本',
          f: 0.1 + 0.2,
          tiny: 5e-324,
          big: 1.7976931348623157e308,
          neg: -42,
          list: [[1, 'a'], []],
        };
        await store.insert(record('u', values));
        expect((await store.load('u'))!.values).toEqual(values);
      }));

    it('lists records below a type version, by id, up to a limit', () =>
      withStore(factory, async (store) => {
        await store.insert(record('c', {}, 'Thing', 1));
        await store.insert(record('a', {}, 'Thing', 2));
        await store.insert(record('b', {}, 'Thing', 1));
        await store.insert(record('d', {}, 'Other', 1));
        expect(ids(await store.olderThan('Thing', 3, 10))).toEqual(['a', 'b', 'c']);
        expect(ids(await store.olderThan('Thing', 2, 1))).toEqual(['b']);
        expect(await store.olderThan('Thing', 1, 10)).toEqual([]);
      }));
  });

  describe('queries', () => {
    const seed = async (store: AomStore) => {
      await store.insert(record('1', { n: 1, s: 'apple', b: true, tags: ['x', 'y'], nums: [1, 2] }));
      await store.insert(record('2', { n: 2.5, s: 'banana', b: false, tags: ['y'] }));
      await store.insert(record('3', { n: '1', s: 'Cherry', tags: [] }));
      await store.insert(record('4', { s: 'apple', b: true }));
      await store.insert(record('5', { n: 1 }, 'Sub'));
      await store.insert(record('6', { n: 1 }, 'Other'));
    };

    it('filters by type list, equality with strict JSON types, in, exists and contains', () =>
      withStore(factory, async (store) => {
        await seed(store);
        const run = (conditions: Condition[], types = ['Thing']) => store.query(query({ conditions, types })).then(ids);
        expect(await run([{ property: 'n', op: 'eq', value: 1 }])).toEqual(['1']);
        expect(await run([{ property: 'n', op: 'eq', value: 1 }], ['Thing', 'Sub'])).toEqual(['1', '5']);
        expect(await run([{ property: 'n', op: 'eq', value: '1' }])).toEqual(['3']);
        expect(await run([{ property: 'b', op: 'eq', value: true }])).toEqual(['1', '4']);
        expect(await run([{ property: 'b', op: 'eq', value: false }])).toEqual(['2']);
        expect(await run([{ property: 's', op: 'in', values: ['banana', 'Cherry', 'none'] }])).toEqual(['2', '3']);
        expect(await run([{ property: 'b', op: 'exists', value: true }])).toEqual(['1', '2', '4']);
        expect(await run([{ property: 'b', op: 'exists', value: false }])).toEqual(['3']);
        expect(await run([{ property: 'tags', op: 'contains', value: 'y' }])).toEqual(['1', '2']);
        expect(await run([{ property: 'nums', op: 'contains', value: 2 }])).toEqual(['1']);
        expect(await run([{ property: 's', op: 'contains', value: 'apple' }])).toEqual([]);
        expect(
          await run([
            { property: 's', op: 'eq', value: 'apple' },
            { property: 'b', op: 'eq', value: true },
            { property: 'n', op: 'exists', value: true },
          ]),
        ).toEqual(['1']);
      }));

    it('composes or and not with and; not matches absent and wrong-typed values', () =>
      withStore(factory, async (store) => {
        await seed(store);
        const run = (conditions: Condition[]) => store.query(query({ conditions })).then(ids);
        const apple: Condition = { property: 's', op: 'eq', value: 'apple' };
        const n1: Condition = { property: 'n', op: 'eq', value: 1 };
        expect(await run([{ op: 'or', branches: [[n1], [{ property: 's', op: 'eq', value: 'banana' }]] }])).toEqual(['1', '2']);
        expect(await run([{ op: 'not', conditions: [apple] }])).toEqual(['2', '3']);
        // 3 holds the string '1' and 4 no n at all: a range on n fails for both, so not() keeps them.
        expect(await run([{ op: 'not', conditions: [{ property: 'n', op: 'gte', value: 1, valueClass: 'number' }] }])).toEqual(['3', '4']);
        expect(await run([apple, { op: 'not', conditions: [n1] }])).toEqual(['4']);
        expect(
          await run([
            {
              op: 'or',
              branches: [
                [{ property: 'b', op: 'eq', value: false }],
                [apple, { op: 'not', conditions: [{ property: 'tags', op: 'contains', value: 'x' }] }],
              ],
            },
          ]),
        ).toEqual(['2', '4']);
        expect(
          await run([{ op: 'not', conditions: [{ op: 'or', branches: [[apple], [{ property: 'b', op: 'exists', value: true }]] }] }]),
        ).toEqual(['3']);
        expect(await run([{ op: 'or', branches: [[]] }])).toEqual(['1', '2', '3', '4']);
        expect(await run([{ op: 'not', conditions: [] }])).toEqual([]);
      }));

    it('pages after an id, in code point order, with conditions and a limit', () =>
      withStore(factory, async (store) => {
        await seed(store);
        await store.insert(record('10', { s: 'apple' }));
        await store.insert(record('B', { s: 'apple' }));
        await store.insert(record('a', { s: 'apple' }));
        const run = (after: string, limit?: number, conditions: Condition[] = []) =>
          store.query(query({ after, limit, conditions })).then(ids);
        expect(await run('1')).toEqual(['10', '2', '3', '4', 'B', 'a']);
        expect(await run('2', 2)).toEqual(['3', '4']);
        expect(await run('10', undefined, [{ property: 's', op: 'eq', value: 'apple' }])).toEqual(['4', 'B', 'a']);
        expect(await run('a')).toEqual([]);
      }));

    it('applies ranges only to values of the same JSON type', () =>
      withStore(factory, async (store) => {
        await seed(store);
        const run = (conditions: Condition[]) => store.query(query({ conditions })).then(ids);
        expect(await run([{ property: 'n', op: 'gte', value: 1, valueClass: 'number' }])).toEqual(['1', '2']);
        expect(await run([{ property: 'n', op: 'gt', value: 1, valueClass: 'number' }])).toEqual(['2']);
        expect(await run([{ property: 'n', op: 'lt', value: 2.5, valueClass: 'number' }])).toEqual(['1']);
        expect(
          await run([
            { property: 'n', op: 'lte', value: 2.5, valueClass: 'number' },
            { property: 'n', op: 'gt', value: 1, valueClass: 'number' },
          ]),
        ).toEqual(['2']);
        // Code point order: upper case sorts before lower case.
        expect(await run([{ property: 's', op: 'lt', value: 'apple', valueClass: 'string' }])).toEqual(['3']);
        expect(await run([{ property: 's', op: 'gte', value: 'b', valueClass: 'string' }])).toEqual(['2']);
      }));

    it('orders with absent values last in both directions, ties by id, then limits', () =>
      withStore(factory, async (store) => {
        await seed(store);
        const run = (orderBy: SortKey[], limit?: number) => store.query(query({ orderBy, limit })).then(ids);
        expect(await run([{ property: 'n', direction: 'asc', valueClass: 'number' }])).toEqual(['1', '2', '3', '4']);
        expect(await run([{ property: 'n', direction: 'desc', valueClass: 'number' }])).toEqual(['2', '1', '3', '4']);
        expect(await run([{ property: 's', direction: 'asc', valueClass: 'string' }])).toEqual(['3', '1', '4', '2']);
        expect(
          await run([
            { property: 's', direction: 'desc', valueClass: 'string' },
            { property: 'b', direction: 'asc', valueClass: 'boolean' },
          ]),
        ).toEqual(['2', '1', '4', '3']);
        expect(await run([{ property: 'b', direction: 'asc', valueClass: 'boolean' }], 2)).toEqual(['2', '1']);
      }));

    it('agrees with the in-memory reference on random documents and queries', async () => {
      const scalar = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom('a', 'b', 'B', 'é', '🐜'), fc.boolean());
      const doc = fc.record(
        {
          n: fc.oneof(
            fc.integer({ min: -3, max: 3 }),
            fc.double({ min: -3, max: 3, noNaN: true, noDefaultInfinity: true }).map((x) => (Object.is(x, -0) ? 0 : x)),
          ),
          s: scalar,
          tags: fc.array(scalar, { maxLength: 3 }),
        },
        { requiredKeys: [] },
      );
      const condition: fc.Arbitrary<Condition> = fc.oneof(
        fc.record({ property: fc.constantFrom('n', 's'), op: fc.constant('eq' as const), value: scalar }),
        fc.record({
          property: fc.constantFrom('n', 's'),
          op: fc.constant('in' as const),
          values: fc.array(scalar, { minLength: 1, maxLength: 3 }),
        }),
        fc.record({ property: fc.constantFrom('n', 's', 'tags'), op: fc.constant('exists' as const), value: fc.boolean() }),
        fc.record({ property: fc.constant('tags'), op: fc.constant('contains' as const), value: scalar }),
        fc.record({
          property: fc.constant('n'),
          op: fc.constantFrom('gt' as const, 'gte' as const, 'lt' as const, 'lte' as const),
          value: fc.integer({ min: -3, max: 3 }),
          valueClass: fc.constant('number' as const),
        }),
        fc.record({
          property: fc.constant('s'),
          op: fc.constantFrom('gt' as const, 'lt' as const),
          value: fc.constantFrom('a', 'B', 'é'),
          valueClass: fc.constant('string' as const),
        }),
      );
      const combined: fc.Arbitrary<Condition> = fc.oneof(
        condition,
        fc.record({
          op: fc.constant('or' as const),
          branches: fc.array(fc.array(condition, { maxLength: 2 }), { minLength: 1, maxLength: 3 }),
        }),
        fc.record({ op: fc.constant('not' as const), conditions: fc.array(condition, { maxLength: 2 }) }),
        fc.record({
          op: fc.constant('not' as const),
          conditions: fc.array(
            fc.record({
              op: fc.constant('or' as const),
              branches: fc.array(fc.array(condition, { maxLength: 2 }), { minLength: 1, maxLength: 2 }),
            }),
            { minLength: 1, maxLength: 1 },
          ),
        }),
      );
      const sortKey: fc.Arbitrary<SortKey> = fc.record({
        property: fc.constantFrom('n', 's'),
        direction: fc.constantFrom('asc' as const, 'desc' as const),
        valueClass: fc.constantFrom('number' as const, 'string' as const, 'boolean' as const),
      });
      await fc.assert(
        fc.asyncProperty(
          fc.array(doc, { maxLength: 12 }),
          fc.array(combined, { maxLength: 3 }),
          fc.array(sortKey, { maxLength: 2 }),
          fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
          fc.option(fc.integer({ min: 0, max: 12 }), { nil: undefined }),
          (docs, conditions, orderBy, limit, afterIndex) =>
            withStore(factory, async (store) => {
              const records = docs.map((values, index) => record(`e${String(index).padStart(2, '0')}`, values));
              for (const r of records) await store.insert(r);
              const after = afterIndex === undefined ? undefined : `e${String(afterIndex).padStart(2, '0')}`;
              const expected = records
                .filter((r) => (after === undefined || r.id > after) && matches(r.values, conditions))
                .sort(compareBy(orderBy))
                .slice(0, limit ?? records.length);
              expect(ids(await store.query(query({ conditions, orderBy, limit, ...(after === undefined ? {} : { after }) })))).toEqual(
                ids(expected),
              );
            }),
        ),
        { numRuns: options.propertyRuns },
      );
    });
  });
}

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { diameter } from '../src/graph/distances.js';
import { configure, runByzantine, STRATEGY_NAMES } from '../src/index.js';

type Edge = readonly [number, number];
const path = (n: number): Edge[] => Array.from({ length: n - 1 }, (_, i) => [i, i + 1] as const);
const neighboursOf = (n: number, edges: readonly Edge[]) =>
  Array.from({ length: n }, (_, id) => edges.flatMap(([a, b]) => (a === id ? [b] : b === id ? [a] : [])));

describe('SM(m) on a communication graph (section 5)', () => {
  it('on a line 0-1-2-3 with no traitor needs m + d - 1 = 2 rounds: with fewer, the far end never hears the order', async () => {
    const graph = path(4);
    expect(() => configure({ algorithm: 'sm', generals: 4, rounds: 1, graph })).toThrow(
      'rounds: SM on this graph needs m + d - 1 = 2 rounds (m = 0 traitors, loyal diameter d = 3), got 1 (pass unsafe to run it anyway)',
    );
    const short = await runByzantine({ algorithm: 'sm', generals: 4, rounds: 1, graph, unsafe: true });
    expect(short.decisions).toEqual({ 1: 'ATTACK', 2: 'ATTACK', 3: 'RETREAT' });
    expect(short.ic2).toBe(false);
    const enough = await runByzantine({ algorithm: 'sm', generals: 4, rounds: 2, graph });
    expect(enough.decisions).toEqual({ 1: 'ATTACK', 2: 'ATTACK', 3: 'ATTACK' });
    expect(enough.messages).toBe(3);
  });

  it('messages travel only along edges, on both engines', async () => {
    // A ring of six with traitor 3: the loyal generals form the line 2-1-0-5-4, of diameter 4.
    const graph: Edge[] = [...path(6), [5, 0]];
    for (const engine of ['fast', 'actors'] as const) {
      const result = await runByzantine({
        algorithm: 'sm',
        generals: 6,
        rounds: 4,
        traitors: [3],
        graph,
        strategy: 'flip',
        engine,
        workers: 2,
      });
      expect(result).toMatchObject({ ic1: true, ic2: true });
      expect(result.loyalDecisions).toEqual({ 1: 'ATTACK', 2: 'ATTACK', 4: 'ATTACK', 5: 'ATTACK' });
    }
  });

  it('refuses a graph whose loyal generals are cut apart, and bad edges, naming them', () => {
    expect(() => configure({ algorithm: 'sm', generals: 4, rounds: 3, traitors: [1], graph: path(4) })).toThrow(
      'graph: the loyal generals do not form a connected subgraph',
    );
    expect(() => configure({ algorithm: 'sm', generals: 4, rounds: 3, graph: [[0, 4]] })).toThrow(
      'graph[0]: general 4 is out of range 0..3',
    );
    expect(() => configure({ algorithm: 'sm', generals: 4, rounds: 3, graph: [[2, 2]] })).toThrow('graph[0]: joins general 2 to itself');
    expect(() => configure({ generals: 4, rounds: 1, graph: path(4) })).toThrow(
      'graph: a communication graph is supported for SM here; run OM on a p-regular graph with runOmRegular',
    );
  });

  it('Theorem 4: with at most m traitors and a connected loyal subgraph of diameter d, SM(m + d - 1) satisfies IC1 and IC2', async () => {
    const connected = fc.integer({ min: 3, max: 6 }).chain((n) =>
      fc
        .record({
          // A random spanning tree (each general joins one before it) plus random extra edges.
          parents: fc.tuple(...Array.from({ length: n - 1 }, (_, i) => fc.integer({ min: 0, max: i }))),
          extra: fc.uniqueArray(fc.tuple(fc.integer({ min: 0, max: n - 1 }), fc.integer({ min: 0, max: n - 1 })), { maxLength: n }),
          traitors: fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), { maxLength: 2 }),
          strategy: fc.constantFrom(...STRATEGY_NAMES),
          seed: fc.integer({ min: 0, max: 1000 }),
        })
        .map(({ parents, extra, ...rest }) => {
          const edges: Edge[] = [...parents.map((p, i) => [p, i + 1] as const), ...extra.filter(([a, b]) => a !== b)];
          return { n, edges, ...rest };
        }),
    );
    await fc.assert(
      fc.asyncProperty(connected, async ({ n, edges, traitors, strategy, seed }) => {
        const loyal = Array.from({ length: n }, (_, id) => id).filter((id) => !traitors.includes(id));
        const d = diameter(neighboursOf(n, edges), loyal);
        fc.pre(d !== Number.POSITIVE_INFINITY);
        const result = await runByzantine({
          algorithm: 'sm',
          generals: n,
          rounds: Math.max(traitors.length + d - 1, traitors.length),
          traitors,
          graph: edges,
          strategy,
          seed,
        });
        expect(result.ic1 && result.ic2).toBe(true);
      }),
      { numRuns: 40 },
    );
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Adjacency } from '../src/graph/distances.js';
import { runOmRegular } from '../src/graph/om-regular.js';
import { isRegular, regularSet } from '../src/graph/regular.js';

const fromEdges = (n: number, edges: readonly (readonly [number, number])[]): Adjacency =>
  Array.from({ length: n }, (_, id) => edges.flatMap(([a, b]) => (a === id ? [b] : b === id ? [a] : [])).sort((x, y) => x - y));
const complete = (n: number) =>
  fromEdges(n, Array.from({ length: n }, (_, a) => Array.from({ length: n - a - 1 }, (_, i) => [a, a + i + 1] as const)).flat());
const ring = (n: number) =>
  fromEdges(
    n,
    Array.from({ length: n }, (_, i) => [i, (i + 1) % n] as const),
  );
// The hexagon with its three long diagonals (K3,3): every general has exactly three neighbours and is 3-regular.
const hexagonWithDiagonals = fromEdges(6, [...Array.from({ length: 6 }, (_, i) => [i, (i + 1) % 6] as const), [0, 3], [1, 4], [2, 5]]);

describe('p-regular graphs (section 5, Definitions 1 and 2)', () => {
  it('the hexagon with its long diagonals is 3-regular; the plain hexagon and the hexagon with one diagonal are not', () => {
    expect(isRegular(hexagonWithDiagonals, 3)).toBe(true);
    expect(isRegular(ring(6), 3)).toBe(false);
    expect(isRegular(ring(6), 2)).toBe(true);
    expect(isRegular(fromEdges(6, [...Array.from({ length: 6 }, (_, i) => [i, (i + 1) % 6] as const), [0, 3]]), 3)).toBe(false);
  });
  it('a regular set comes with disjoint paths that avoid the node and meet only at their end', () => {
    const set = regularSet(hexagonWithDiagonals, new Set([0, 1, 2, 3, 4, 5]), 0, 3)!;
    expect(set.members).toEqual([1, 3, 5]);
    for (const [k, paths] of set.paths) {
      const inner = paths.flatMap((path) => path.slice(0, -1));
      expect(new Set(inner).size).toBe(inner.length);
      for (const path of paths) {
        expect(path.at(-1)).toBe(k);
        expect(path).not.toContain(0);
      }
    }
  });
  it('the complete graph on n generals is (n-1)-regular', () => {
    expect(isRegular(complete(5), 4)).toBe(true);
  });
});

describe('OM(m, p) (section 5, Theorem 3)', () => {
  it('on the 3-regular hexagon with diagonals, OM(1, 3) survives a lying relay and a lying commander', () => {
    const relay = runOmRegular({ neighbours: hexagonWithDiagonals, rounds: 1, p: 3, traitors: [3] });
    expect(relay).toMatchObject({ ic1: true, ic2: true });
    expect(relay.loyalDecisions).toEqual({ 1: 'ATTACK', 2: 'ATTACK', 4: 'ATTACK', 5: 'ATTACK' });
    const commander = runOmRegular({
      neighbours: hexagonWithDiagonals,
      rounds: 1,
      p: 3,
      traitors: [0],
      lie: ({ recipient }) => (recipient === 1 ? 'ATTACK' : 'RETREAT'),
    });
    expect(commander.ic1).toBe(true);
  });

  it('on the plain hexagon there is no regular set of 3 neighbours, and the error says where', () => {
    expect(() => runOmRegular({ neighbours: ring(6), rounds: 1, p: 3 })).toThrow('graph: general 0 has no regular set of 3 neighbours');
  });

  it('with p < 3m a traitor breaks it: OM(1, 2) on the hexagon, one relay lying', () => {
    const result = runOmRegular({ neighbours: ring(6), rounds: 1, p: 2, traitors: [1] });
    expect(result.ic2).toBe(false);
  });

  it('Theorem 3: with p >= 3m and at most m traitors, any adversary leaves IC1 and IC2 intact (property)', () => {
    const graphs = [
      { neighbours: hexagonWithDiagonals, m: 1, p: 3 },
      { neighbours: complete(4), m: 1, p: 3 },
      { neighbours: complete(7), m: 2, p: 6 },
    ];
    const runs = fc.integer({ min: 0, max: graphs.length - 1 }).chain((g) =>
      fc.record({
        g: fc.constant(g),
        traitors: fc.uniqueArray(fc.integer({ min: 0, max: graphs[g]!.neighbours.length - 1 }), { maxLength: graphs[g]!.m }),
        order: fc.constantFrom('ATTACK', 'RETREAT'),
        choose: fc.func(fc.constantFrom<string | undefined>('ATTACK', 'RETREAT', undefined)),
      }),
    );
    fc.assert(
      fc.property(runs, ({ g, traitors, order, choose }) => {
        const { neighbours, m, p } = graphs[g]!;
        const result = runOmRegular({
          neighbours,
          rounds: m,
          p,
          traitors,
          order,
          lie: ({ sender, recipient, honest, commanders }) => choose(`${sender}>${recipient}:${honest}@${commanders.join('.')}`),
        });
        expect(result.ic1 && result.ic2).toBe(true);
      }),
      { numRuns: 60 },
    );
  });
});

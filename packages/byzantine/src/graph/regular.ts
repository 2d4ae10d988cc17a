import type { Adjacency } from './distances.js';

/**
 * Vertex-disjoint paths from each of `starts` to `target` that avoid `avoid` and stay inside
 * `active`, sharing no node but the target (a start equal to the target is the one-node path).
 * Undefined when they do not exist. Max-flow with every node but the target split into an in
 * and an out half of capacity 1; the graphs are small, so augmenting paths by BFS suffice.
 */
export function disjointPaths(
  graph: Adjacency,
  active: ReadonlySet<number>,
  avoid: number,
  starts: readonly number[],
  target: number,
): number[][] | undefined {
  const n = graph.length;
  // Node v: in = 2v, out = 2v + 1; source = 2n, sink = the target's in-half.
  const source = 2 * n;
  const capacity = new Map<string, number>();
  const edges = new Map<number, Set<number>>();
  const add = (a: number, b: number, c: number) => {
    capacity.set(`${a},${b}`, (capacity.get(`${a},${b}`) ?? 0) + c);
    if (!capacity.has(`${b},${a}`)) capacity.set(`${b},${a}`, 0);
    (edges.get(a) ?? edges.set(a, new Set()).get(a)!).add(b);
    (edges.get(b) ?? edges.set(b, new Set()).get(b)!).add(a);
  };
  const sink = 2 * target;
  for (const v of active) {
    if (v === avoid) continue;
    if (v !== target) add(2 * v, 2 * v + 1, 1);
    for (const w of graph[v]!) if (active.has(w) && w !== avoid) add(2 * v + 1, 2 * w, 1);
  }
  for (const s of starts) add(source, 2 * s, 1);
  let flow = 0;
  for (;;) {
    const previous = new Map<number, number>([[source, source]]);
    const queue = [source];
    for (let head = 0; head < queue.length && !previous.has(sink); head++) {
      const a = queue[head]!;
      for (const b of edges.get(a) ?? []) {
        if (!previous.has(b) && (capacity.get(`${a},${b}`) ?? 0) > 0) {
          previous.set(b, a);
          queue.push(b);
        }
      }
    }
    if (!previous.has(sink)) break;
    for (let b = sink; b !== source; b = previous.get(b)!) {
      const a = previous.get(b)!;
      capacity.set(`${a},${b}`, capacity.get(`${a},${b}`)! - 1);
      capacity.set(`${b},${a}`, capacity.get(`${b},${a}`)! + 1);
    }
    flow++;
  }
  if (flow < starts.length) return undefined;
  // Walk each unit of flow from its start to the target along saturated out->in arcs.
  const used = (a: number, b: number) => (capacity.get(`${b},${a}`) ?? 0) > 0 && a % 2 === 1 && b % 2 === 0;
  const taken = new Set<string>();
  return starts.map((s) => {
    const path = [s];
    let node = s;
    while (node !== target) {
      const next = [...(graph[node] ?? [])].find(
        (w) => active.has(w) && w !== avoid && !taken.has(`${node},${w}`) && used(2 * node + 1, 2 * w),
      );
      if (next === undefined) break;
      taken.add(`${node},${next}`);
      path.push(next);
      node = next;
    }
    return path;
  });
}

/** Every k-subset of `items`, in lexicographic order. */
function* subsets<T>(items: readonly T[], k: number, from = 0, chosen: T[] = []): Generator<T[]> {
  if (chosen.length === k) {
    yield chosen;
    return;
  }
  for (let i = from; i <= items.length - (k - chosen.length); i++) yield* subsets(items, k, i + 1, [...chosen, items[i]!]);
}

export interface RegularSet {
  /** The p neighbours. */
  readonly members: readonly number[];
  /** paths.get(k)[j]: the path from members[j] to k, avoiding the node, disjoint from the others but for k. */
  readonly paths: ReadonlyMap<number, readonly (readonly number[])[]>;
}

/**
 * A regular set of p neighbours of `node` within `active` (Definition 1 of section 5): p
 * neighbours such that every other general k can be reached from each of them by paths that
 * avoid `node` and meet only at k. Undefined when there is none.
 */
export function regularSet(graph: Adjacency, active: ReadonlySet<number>, node: number, p: number): RegularSet | undefined {
  const neighbours = graph[node]!.filter((w) => active.has(w));
  for (const members of subsets(neighbours, p)) {
    const paths = new Map<number, number[][]>();
    let ok = true;
    for (const k of active) {
      if (k === node) continue;
      const found = disjointPaths(graph, active, node, members, k);
      if (!found || found.some((path) => path.at(-1) !== k)) {
        ok = false;
        break;
      }
      paths.set(k, found);
    }
    if (ok) return { members, paths };
  }
  return undefined;
}

/** Whether every general has a regular set of p neighbours (Definition 2: the graph is p-regular). */
export const isRegular = (graph: Adjacency, p: number): boolean => {
  const active = new Set(graph.map((_, id) => id));
  return graph.every((_, node) => regularSet(graph, active, node, p) !== undefined);
};

/** Neighbour lists of an undirected communication graph over generals 0..n-1. */
export type Adjacency = readonly (readonly number[])[];

/**
 * Hop distances from `from` within the generals `inside` (all when undefined); unreachable
 * generals get Infinity.
 */
export function distancesFrom(graph: Adjacency, from: number, inside?: ReadonlySet<number>): number[] {
  const distance = graph.map(() => Number.POSITIVE_INFINITY);
  distance[from] = 0;
  const queue = [from];
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head]!;
    for (const next of graph[node]!) {
      if ((inside && !inside.has(next)) || distance[next] !== Number.POSITIVE_INFINITY) continue;
      distance[next] = distance[node]! + 1;
      queue.push(next);
    }
  }
  return distance;
}

/** The diameter of the subgraph induced by `nodes`: Infinity when it is not connected. */
export function diameter(graph: Adjacency, nodes: readonly number[]): number {
  const inside = new Set(nodes);
  let widest = 0;
  for (const node of nodes) {
    const distance = distancesFrom(graph, node, inside);
    for (const other of nodes) widest = Math.max(widest, distance[other]!);
  }
  return widest;
}

/**
 * Paths of the exponential-information-gathering tree: (0, p1, ..., pk) with distinct
 * lieutenants p1..pk. A path with k lieutenants lives on level k and is numbered by its
 * lexicographic rank among the k-permutations of the lieutenants 1..n-1, so both engines name
 * every tree node (and every message) the same way without building the tree.
 */

/** (n-1)! / (n-1-k)!: the number of tree nodes on level k, and of messages sent in round k. */
export function nodesOnLevel(n: number, k: number): number {
  let count = 1;
  for (let t = 0; t < k; t++) count *= n - 1 - t;
  return Math.max(count, 0);
}

function assertSizes(n: number, m: number, caller: string): void {
  if (!Number.isSafeInteger(n) || n < 2) throw new RangeError(`${caller}: n must be an integer of at least 2, got ${n}`);
  if (!Number.isSafeInteger(m) || m < 0) throw new RangeError(`${caller}: m must be a non-negative integer, got ${m}`);
}

/** Messages OM(m) sends when everyone sends: the sum over k = 1..m+1 of (n-1)!/(n-1-k)!. */
export function omMessageCount(n: number, m: number): number {
  assertSizes(n, m, 'omMessageCount');
  let total = 0;
  for (let k = 1; k <= m + 1; k++) total += nodesOnLevel(n, k);
  return total;
}

/** Messages a given general sends in OM(m) when it sends everything (used to check silent traitors). */
export function omMessagesSentBy(general: number, n: number, m: number): number {
  assertSizes(n, m, 'omMessagesSentBy');
  if (!Number.isSafeInteger(general) || general < 0 || general >= n) {
    throw new RangeError(`omMessagesSentBy: general must be an id in 0..${n - 1}, got ${general}`);
  }
  if (general === 0) return n - 1;
  let total = 0;
  // Paths ending in `general` with k lieutenants: the k-1 before it are a (k-1)-permutation of the n-2 others.
  for (let k = 1; k <= m; k++) total += nodesOnLevel(n - 1, k - 1) * (n - 1 - k);
  return total;
}

/** Rank of lieutenant j among those not yet on the path (the path's lieutenants are `onPath`). */
export function childRank(j: number, onPath: ArrayLike<number>, length: number): number {
  let smaller = 0;
  for (let t = 0; t < length; t++) if (onPath[t]! < j) smaller++;
  return j - 1 - smaller;
}

/** Index of path·j on level k+1, from the index of a path with k lieutenants. */
export function childIndex(n: number, k: number, index: number, rank: number): number {
  return index * (n - 1 - k) + rank;
}

/** The lieutenants of the path with this index on level k (inverse of the ranking), written to `out[0..k)`. */
export function decodePath(n: number, k: number, index: number, out: Int32Array): void {
  let rest = index;
  for (let t = 0; t < k; t++) {
    const weight = nodesOnLevel(n - 1 - t, k - 1 - t);
    const rank = Math.floor(rest / weight);
    rest -= rank * weight;
    // The rank counts lieutenants not already on the path.
    let candidate = 0;
    for (let seen = -1; seen < rank; ) {
      candidate++;
      if (!onPrefix(out, t, candidate)) seen++;
    }
    out[t] = candidate;
  }
}

function onPrefix(out: Int32Array, length: number, value: number): boolean {
  for (let s = 0; s < length; s++) if (out[s] === value) return true;
  return false;
}

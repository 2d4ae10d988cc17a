/**
 * The Hungarian method (Kuhn 1955, Munkres 1957) in its O(n^2 m) potentials form: assigns each row
 * to a distinct column at least total cost. Rows <= columns; `Infinity` marks a forbidden pair.
 * Returns, per row, its column (or -1 when only forbidden pairs were left).
 */
export function hungarian(cost: readonly (readonly number[])[]): { assignment: number[]; total: number } {
  const n = cost.length;
  if (n === 0) return { assignment: [], total: 0 };
  const m = cost[0]!.length;
  if (m < n) throw new Error(`hungarian: ${n} rows need at least as many columns, got ${m}`);
  // A finite stand-in for forbidden pairs, larger than any finite total.
  let finiteMax = 0;
  for (const row of cost) for (const c of row) if (Number.isFinite(c)) finiteMax = Math.max(finiteMax, Math.abs(c));
  const BIG = (finiteMax + 1) * (n + 1) * 4;
  const at = (i: number, j: number) => {
    const c = cost[i - 1]![j - 1]!;
    return Number.isFinite(c) ? c : BIG;
  };
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const p = new Int32Array(m + 1);
  const way = new Int32Array(m + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    const minv = new Float64Array(m + 1).fill(Number.POSITIVE_INFINITY);
    const used = new Uint8Array(m + 1);
    do {
      used[j0] = 1;
      const i0 = p[j0]!;
      let delta = Number.POSITIVE_INFINITY;
      let j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const cur = at(i0, j) - u[i0]! - v[j]!;
        if (cur < minv[j]!) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[p[j]!] = u[p[j]!]! + delta;
          v[j] = v[j]! - delta;
        } else minv[j] = minv[j]! - delta;
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0]!;
      p[j0] = p[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }
  const assignment = new Array<number>(n).fill(-1);
  for (let j = 1; j <= m; j++) if (p[j]! > 0) assignment[p[j]! - 1] = j - 1;
  let total = 0;
  assignment.forEach((j, i) => {
    const c = cost[i]![j]!;
    if (Number.isFinite(c)) total += c;
    else assignment[i] = -1;
  });
  return { assignment, total };
}

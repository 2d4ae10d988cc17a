export type RowId = string | number | bigint;

/**
 * Ids sorted and deduplicated, so every transaction locks a set of rows in the same order and two
 * of them can never wait for each other in a cycle. Numbers and bigints sort numerically, strings by
 * code unit (the order of a binary collation); mixing the two is refused.
 */
export function lockOrder(ids: readonly RowId[]): RowId[] {
  const kinds = new Set(ids.map((id) => (typeof id === 'string' ? 'string' : 'number')));
  if (kinds.size > 1) throw new TypeError('ids must be all numbers or all strings');
  const unique = [...new Map(ids.map((id) => [`${typeof id === 'string' ? 's' : 'n'}${String(id)}`, id])).values()];
  return unique.sort((a, b) => {
    if (typeof a === 'string' || typeof b === 'string') return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
    return a < b ? -1 : a > b ? 1 : 0;
  });
}

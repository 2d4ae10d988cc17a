export const ATTACK = 'ATTACK';
export const RETREAT = 'RETREAT';

/** Value codes used inside the engines; RETREAT is 0 so that a missing message (zero-filled) reads as RETREAT. */
export const RETREAT_CODE = 0;
export const ATTACK_CODE = 1;

/**
 * The values a run can carry, as small integer codes: RETREAT, ATTACK, the order if different,
 * and any extra values a custom strategy declares. Engines work on codes only.
 */
export class ValueDomain {
  readonly values: readonly string[];
  readonly #codes: ReadonlyMap<string, number>;

  constructor(order: string, extra: readonly string[] = []) {
    const values = [RETREAT, ATTACK];
    for (const value of [order, ...extra]) if (!values.includes(value)) values.push(value);
    if (values.length > 0xffff) throw new RangeError('too many distinct values (at most 65535)');
    this.values = values;
    this.#codes = new Map(values.map((value, code) => [value, code]));
  }

  get size(): number {
    return this.values.length;
  }

  code(value: string): number {
    const code = this.#codes.get(value);
    if (code === undefined)
      throw new RangeError(`value '${value}' is not in this run's domain (${this.values.join(', ')}); declare it in strategy.values`);
    return code;
  }

  value(code: number): string {
    return this.values[code]!;
  }
}

/** What a flip sends instead: ATTACK for RETREAT, RETREAT for anything else. */
export function oppositeCode(code: number): number {
  return code === RETREAT_CODE ? ATTACK_CODE : RETREAT_CODE;
}

/** The strict majority of `total` votes counted in `counts[base .. base+k)`, else RETREAT. */
export function majorityCode(counts: Uint32Array, base: number, k: number, total: number): number {
  for (let code = 0; code < k; code++) if (counts[base + code]! * 2 > total) return code;
  return RETREAT_CODE;
}

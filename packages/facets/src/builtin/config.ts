/** Small validators for facet configs from profiles; each error names the field. */

export type Fields = Readonly<Record<string, unknown>>;

export function objectConfig(raw: unknown, allowed: readonly string[], facet: string): Fields {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new TypeError(`${facet} config must be a mapping`);
  const unknown = Object.keys(raw).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    throw new TypeError(
      `${facet} config has unknown field${unknown.length === 1 ? '' : 's'} ${unknown.join(', ')} (allowed: ${allowed.join(', ') || 'none'})`,
    );
  }
  return raw as Fields;
}

export function stringList(value: unknown, field: string): string[] {
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || item.length === 0)) {
    throw new TypeError(`${field} must be a list of non-empty strings`);
  }
  return [...value] as string[];
}

export function positiveInteger(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw new TypeError(`${field} must be a positive integer`);
  return value;
}

export function positiveNumber(value: unknown, field: string): number {
  if (typeof value !== 'number' || !(value > 0) || value === Number.POSITIVE_INFINITY) {
    throw new TypeError(`${field} must be a positive finite number`);
  }
  return value;
}

import type { Resources } from './model.js';

const EPSILON = 1e-9;

export function add(a: Resources, b: Resources): Record<string, number> {
  const sum: Record<string, number> = { ...a };
  for (const key in b) sum[key] = (sum[key] ?? 0) + (b[key] ?? 0);
  return sum;
}

export function subtract(a: Resources, b: Resources): Record<string, number> {
  const difference: Record<string, number> = { ...a };
  for (const key in b) difference[key] = (difference[key] ?? 0) - (b[key] ?? 0);
  return difference;
}

/** Adds `b` into `target` in place, `sign` times; the hot path of a pass, so no copies. */
export function accumulate(target: Record<string, number>, b: Resources, sign = 1): void {
  for (const key in b) target[key] = (target[key] ?? 0) + sign * (b[key] ?? 0);
}

/** The same quantities (absent and undefined alike); the same object in the common case. */
export function sameResources(a: Resources | undefined, b: Resources | undefined): boolean {
  if (a === b) return true;
  const keys = new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})]);
  return [...keys].every((key) => a?.[key] === b?.[key]);
}

/** True when every quantity asked for is available. */
export function fits(request: Resources, free: Resources): boolean {
  for (const key in request) {
    const wanted = request[key] ?? 0;
    if (wanted > EPSILON && (free[key] ?? 0) + EPSILON < wanted) return false;
  }
  return true;
}

export function scale(a: Resources, factor: number): Record<string, number> {
  const scaled: Record<string, number> = {};
  for (const key in a) scaled[key] = (a[key] ?? 0) * factor;
  return scaled;
}

/** The largest share of any one resource that `used` takes of `total` (DRF's dominant share). */
export function dominantShare(used: Resources, total: Resources): number {
  let share = 0;
  for (const key in used) {
    const capacity = total[key] ?? 0;
    if (capacity > 0) share = Math.max(share, (used[key] ?? 0) / capacity);
  }
  return share;
}

const formatted = new WeakMap<Resources, string>();

export function format(resources: Resources): string {
  const cached = formatted.get(resources);
  if (cached !== undefined) return cached;
  const text = Object.entries(resources)
    .filter(([, value]) => value !== 0)
    .map(([key, value]) => `${key}=${Number.isInteger(value) ? value : value.toFixed(2)}`)
    .join(',');
  formatted.set(resources, text);
  return text;
}

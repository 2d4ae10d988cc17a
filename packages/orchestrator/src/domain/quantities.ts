/**
 * Placement quantities (issue 13): what an ant advertises (`--resources cpu=8,memory=16Gi`, kept as written in
 * the registry) in the unit task definitions request them in (`resources: { cpu: 2, memory: 4096 }`): cpu in
 * cores, memory and storage in MiB, any other named resource as a plain count. Not Formicary's consumable
 * `resources: { resource_type, value }` counters, which are shared units that a task holds wherever it runs.
 */

const BINARY: Readonly<Record<string, number>> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50 };
const DECIMAL: Readonly<Record<string, number>> = { k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15 };
const MIB = 2 ** 20;
/** Kubernetes' byte-sized resources; a bare number for them is already MiB, as in task definitions. */
const BYTE_SIZED = new Set(['memory', 'storage', 'ephemeral-storage']);

/** One advertised quantity in the definitions' unit; throws a RangeError naming the resource. */
export function quantity(name: string, written: string | number): number {
  const text = String(written).trim();
  const match = /^(\d+(?:\.\d+)?)(m|k|K|M|G|T|P|Ki|Mi|Gi|Ti|Pi)?$/.exec(text);
  if (match === null) throw new RangeError(`resource ${name}: expected a quantity such as 8, 500m, 512Mi or 16Gi, got '${text}'`);
  const value = Number(match[1]);
  const suffix = match[2];
  if (suffix === undefined) return value;
  if (suffix === 'm') {
    if (BYTE_SIZED.has(name)) throw new RangeError(`resource ${name}: 'm' is milli; write Mi for mebibytes, got '${text}'`);
    return value / 1000;
  }
  const factor = BINARY[suffix] ?? DECIMAL[suffix]!;
  return BYTE_SIZED.has(name) ? (value * factor) / MIB : value * factor;
}

/** Every advertised quantity in the definitions' units; throws on the first bad one. */
export function quantities(written: Readonly<Record<string, string | number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(written).map(([name, value]) => [name, quantity(name, value)]));
}

const EPSILON = 1e-9;

/**
 * The first requested resource that `capacity` minus `used` cannot give, or undefined when the request fits.
 * An ant that advertises no resources at all is not metered (it takes any request, bounded by its slots); one
 * that advertises some has none of the others, so `gpu: 1` never lands on an ant without `gpu`.
 */
export function shortOf(
  request: Readonly<Record<string, number>>,
  capacity: Readonly<Record<string, number>> | undefined,
  used: Readonly<Record<string, number>> = {},
): string | undefined {
  if (capacity === undefined || Object.keys(capacity).length === 0) return undefined;
  for (const [name, wanted] of Object.entries(request)) {
    if (wanted <= EPSILON) continue;
    if ((capacity[name] ?? 0) - (used[name] ?? 0) + EPSILON < wanted) return name;
  }
  return undefined;
}

/** `a` plus `b`, per resource. */
export function plus(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): Record<string, number> {
  const sum: Record<string, number> = { ...a };
  for (const [name, value] of Object.entries(b)) sum[name] = (sum[name] ?? 0) + value;
  return sum;
}

import type { EntityType } from '../schema/entity-type.js';

export interface NearDuplicate {
  readonly a: string;
  readonly b: string;
  /** Shared property signatures over all signatures of the two (Jaccard), 0..1. */
  readonly similarity: number;
  readonly shared: readonly string[];
  readonly onlyInA: readonly string[];
  readonly onlyInB: readonly string[];
  readonly advice: string;
}

export interface TypeExplosionReport {
  readonly types: number;
  readonly nearDuplicates: readonly NearDuplicate[];
}

/** A property's signature: its name and value shape, so `year:integer` differs from `year:string`. */
function signatures(type: EntityType): Set<string> {
  return new Set(
    [...type.properties.values()]
      .filter((property) => !property.computed)
      .map((property) => `${property.name}:${property.kind}${property.many ? '[]' : ''}`),
  );
}

/**
 * The AOM anti-pattern of type explosion: many types that are really one type with a few
 * optional properties. Reports every pair of types (not parent and child) whose property
 * signatures overlap at least `threshold`, most similar first.
 */
export function auditTypeExplosion(types: readonly EntityType[], options: { threshold?: number } = {}): TypeExplosionReport {
  const threshold = options.threshold ?? 0.75;
  if (typeof threshold !== 'number' || !(threshold > 0 && threshold <= 1)) throw new RangeError('threshold must be in (0, 1]');
  const signed = types.map((type) => ({ type, signature: signatures(type) }));
  const nearDuplicates: NearDuplicate[] = [];
  for (let i = 0; i < signed.length; i += 1) {
    for (let j = i + 1; j < signed.length; j += 1) {
      const a = signed[i]!;
      const b = signed[j]!;
      if (a.type.isA(b.type.name) || b.type.isA(a.type.name)) continue;
      const shared = [...a.signature].filter((entry) => b.signature.has(entry));
      const union = new Set([...a.signature, ...b.signature]).size;
      const similarity = union === 0 ? 1 : shared.length / union;
      if (similarity < threshold) continue;
      const onlyInA = [...a.signature].filter((entry) => !b.signature.has(entry));
      const onlyInB = [...b.signature].filter((entry) => !a.signature.has(entry));
      const advice =
        onlyInA.length + onlyInB.length === 0
          ? `${a.type.name} and ${b.type.name} have the same properties; merge them, or tell them apart with an enum property`
          : `move the ${shared.length} shared properties into a common parent type, or merge the two with the differing properties optional`;
      nearDuplicates.push({
        a: a.type.name,
        b: b.type.name,
        similarity: Math.round(similarity * 1000) / 1000,
        shared,
        onlyInA,
        onlyInB,
        advice,
      });
    }
  }
  nearDuplicates.sort((x, y) => y.similarity - x.similarity || x.a.localeCompare(y.a) || x.b.localeCompare(y.b));
  return { types: types.length, nearDuplicates };
}

export interface Cardinality {
  readonly min: number;
  /** Infinity for `*`. */
  readonly max: number;
}

const FORM = /^(\d{1,6})(?:\.\.(\d{1,6}|\*))?$|^\*$/;

/** Parses UML-style multiplicities: `0..1`, `1`, `0..*`, `1..*`, `2..5`, `*`. Returns undefined when malformed. */
export function parseCardinality(text: string): Cardinality | undefined {
  const match = FORM.exec(text);
  if (!match) return undefined;
  if (text === '*') return { min: 0, max: Number.POSITIVE_INFINITY };
  const min = Number(match[1]);
  const max = match[2] === undefined ? min : match[2] === '*' ? Number.POSITIVE_INFINITY : Number(match[2]);
  if (max < min || max === 0) return undefined;
  return { min, max };
}

export function formatCardinality(cardinality: Cardinality): string {
  const max = cardinality.max === Number.POSITIVE_INFINITY ? '*' : String(cardinality.max);
  return cardinality.min === cardinality.max ? max : `${cardinality.min}..${max}`;
}

import { expectList, parsedProblem } from '../input.js';
import { findPhrase } from '../lint/text.js';
import type { PostMortem } from '../model/schema.js';
import { entryLine } from '../render/index.js';
import { SQUARES, type Square } from './squares.js';

export interface PatternInput {
  readonly file: string;
  readonly doc: PostMortem;
}

export interface Hit {
  readonly file: string;
  readonly title: string;
  readonly period: string;
  /** `tag:<tag>` or the phrase found in the text. */
  readonly evidence: string;
}

export interface SquareCount {
  readonly square: Square;
  readonly total: number;
  /** Documents per period, for every period of the analysis (zeros included). */
  readonly byPeriod: Readonly<Record<string, number>>;
  readonly hits: readonly Hit[];
}

export interface PatternAnalysis {
  readonly documents: number;
  /** Months (YYYY-MM) in order, then "undated" if any document has no date. */
  readonly periods: readonly string[];
  /** Post-mortems per period, so a chart can say how many documents its pattern counts come from. */
  readonly documentsByPeriod: Readonly<Record<string, number>>;
  readonly squares: readonly SquareCount[];
}

/** The narrative a pattern can show up in: what happened and why, not the hopes in lessons and actions. */
function narrative(doc: PostMortem): string {
  const whys = (doc.rootCause?.branches ?? []).flatMap((b) => [b.intro, ...b.whys.flatMap((w) => [w.question, w.answer]), b.outro]);
  return [
    doc.frontMatter.title ?? '',
    doc.summary ?? '',
    doc.customerImpact ?? '',
    ...(doc.timeline?.entries ?? []).map(entryLine),
    ...whys,
    doc.responseAnalysis?.intro ?? '',
    ...(doc.responseAnalysis?.parts ?? []).map((p) => p.body),
    doc.postIncident ?? '',
  ].join('\n');
}

/** The month of the incident (or of the post-mortem, when the incident time is missing). */
export function periodOf(doc: PostMortem): string {
  const fm = doc.frontMatter;
  const when = fm.incident_start ?? fm.impact_start ?? fm.published_at ?? fm.draft_created_at;
  return when ? when.slice(0, 7) : 'undated';
}

function evidence(doc: PostMortem, text: string, square: Square): string | undefined {
  const tags = new Set((doc.frontMatter.tags ?? []).map((t) => t.toLowerCase()));
  const tag = square.tags.find((t) => tags.has(t.toLowerCase()));
  if (tag) return `tag:${tag}`;
  return findPhrase(text, square.phrases)?.phrase;
}

/** Counts each square once per document, by month. Pure. */
export function analysePatterns(inputs: readonly PatternInput[], squares: readonly Square[] = SQUARES): PatternAnalysis {
  expectList(inputs, 'analysePatterns', 'the inputs', parsedProblem);
  expectList(squares, 'analysePatterns', 'the squares');
  const periods = [...new Set(inputs.map((input) => periodOf(input.doc)))].sort((a, b) =>
    a === 'undated' ? 1 : b === 'undated' ? -1 : a.localeCompare(b),
  );
  const texts = inputs.map((input) => narrative(input.doc));
  const documentPeriods = inputs.map((input) => periodOf(input.doc));
  return {
    documents: inputs.length,
    periods,
    documentsByPeriod: Object.fromEntries(periods.map((p) => [p, documentPeriods.filter((d) => d === p).length])),
    squares: squares.map((square) => {
      const hits = inputs.flatMap((input, i): Hit[] => {
        const found = evidence(input.doc, texts[i] ?? '', square);
        return found
          ? [{ file: input.file, title: input.doc.frontMatter.title ?? input.file, period: periodOf(input.doc), evidence: found }]
          : [];
      });
      const byPeriod = Object.fromEntries(periods.map((p) => [p, hits.filter((h) => h.period === p).length]));
      return { square, total: hits.length, byPeriod, hits };
    }),
  };
}

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analysePatterns, parse, patternChart, patternReport } from '../src/index.js';
import { postMortem } from './support/arbitraries.js';
import { exemplary, variant } from './support/fixtures.js';

const doc = (text: string) => parse(text).doc;

describe('bingo squares', () => {
  it('finds squares from tags and from the narrative, once per document', () => {
    const analysis = analysePatterns([{ file: 'a.md', doc: doc(exemplary) }]);
    expect(analysis.squares.filter((s) => s.total > 0).map((s) => [s.square.id, s.hits[0]?.evidence])).toEqual([
      ['no-monitoring', 'no alert'],
      ['insufficient-tests', 'tag:insufficient-tests'],
      ['staging-differs', 'production-sized'],
      ['manual-process-error', 'manual approval'],
      ['deployment', 'tag:deployment'],
    ]);
  });

  it('counts per month of the incident and calls out repeats', () => {
    const december = variant(
      ['incident_start: 2026-11-03T09:12:00Z', 'incident_start: 2026-12-01T21:00:00-08:00'],
      ['  - deployment\n', '  - peak-traffic\n'],
    );
    const analysis = analysePatterns([
      { file: 'nov.md', doc: doc(exemplary) },
      { file: 'dec.md', doc: doc(december) },
    ]);
    expect(analysis.periods).toEqual(['2026-11', '2026-12']);
    const byId = Object.fromEntries(analysis.squares.map((s) => [s.square.id, s.byPeriod]));
    expect(byId['peak-traffic-deploy']).toEqual({ '2026-11': 0, '2026-12': 1 });
    expect(byId['manual-process-error']).toEqual({ '2026-11': 1, '2026-12': 1 });
    const report = patternReport(analysis);
    expect(report).toContain('| Manual process error | 1 | 1 | 2 |');
    expect(report).toContain('- **Manual process error** in 2 post-mortems: reliability depends on people never slipping');
    expect(report).not.toContain('**Deployed during peak traffic**');
  });

  it('puts undated documents last', () => {
    const undated = variant(
      ['incident_start: 2026-11-03T09:12:00Z\nimpact_start: 2026-11-03T09:14:00Z\n', ''],
      ['draft_created_at: 2026-11-03T16:00:00Z\npublished_at: 2026-11-06T10:00:00Z\n', ''],
    );
    expect(
      analysePatterns([
        { file: 'u.md', doc: doc(undated) },
        { file: 'a.md', doc: doc(exemplary) },
      ]).periods,
    ).toEqual(['2026-11', 'undated']);
  });

  it('keeps totals equal to the sum over months, and never above the number of documents', () => {
    fc.assert(
      fc.property(fc.array(postMortem, { maxLength: 5 }), (docs) => {
        const analysis = analysePatterns(docs.map((d, i) => ({ file: `${i}.md`, doc: d })));
        for (const s of analysis.squares) {
          expect(Object.values(s.byPeriod).reduce((a, b) => a + b, 0)).toBe(s.total);
          expect(s.total).toBeLessThanOrEqual(docs.length);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('grows wider with the months so their labels never overlap', () => {
    const months = Array.from({ length: 12 }, (_, i) => `2026-${String(i + 1).padStart(2, '0')}`);
    const analysis = analysePatterns(
      months.map((month) => ({
        file: `${month}.md`,
        doc: doc(exemplary.replace(/incident_start: \S+/, `incident_start: ${month}-03T09:12:00Z`)),
      })),
    );
    expect(analysis.periods).toEqual(months);
    const svg = patternChart(analysis);
    const centres = [...svg.matchAll(/<text x="([\d.]+)"[^>]*>2026-\d\d<\/text>/g)].map((m) => Number(m[1]));
    expect(centres).toHaveLength(12);
    for (let i = 1; i < centres.length; i++) expect(centres[i]! - centres[i - 1]!).toBeGreaterThanOrEqual(100);
  });

  it('draws one bar segment per non-zero count, with escaped labels', () => {
    const analysis = analysePatterns([{ file: 'a.md', doc: doc(exemplary) }]);
    const svg = patternChart(analysis);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<rect [^>]*><title>/g)).toHaveLength(5);
    expect(svg).toContain('<title>Staging differs from production, 2026-11: 1</title>');
    // Five patterns stack up over one document: the axis counts patterns, and the month says how many documents.
    expect(svg).toContain('>patterns found</text>');
    expect(svg).not.toContain('>post-mortems</text>');
    expect(svg).toMatch(/<text [^>]*>1 post-mortem<\/text>/);
    const opened = (svg.match(/<(rect|text|line|title|svg)\b/g) ?? []).length;
    const closed = (svg.match(/<\/(rect|text|line|title|svg)>|\/>/g) ?? []).length;
    expect(closed).toBe(opened);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatActions, parse, trackActions } from '../src/index.js';
import { postMortem } from './support/arbitraries.js';
import { exemplary, variant } from './support/fixtures.js';

const input = (file: string, text: string) => {
  const parsed = parse(text);
  return { file, doc: parsed.doc, positions: parsed.positions };
};

describe('action tracking', () => {
  it('classifies every action of a post-mortem against a given day', () => {
    const summary = trackActions([input('a.md', exemplary)], '2026-12-05');
    expect(summary).toMatchObject({ total: 4, open: 3, done: 1, overdue: 2, completionRate: 0.25, openAge: { mean: 28, max: 28 } });
    expect(summary.actions.filter((a) => a.overdue).map((a) => [a.id, a.daysOverdue, a.line])).toEqual([
      ['2', 8, 148],
      ['4', 1, 150],
    ]);
    expect(summary.byPriority).toEqual({
      High: { total: 2, open: 1, done: 1, overdue: 0 },
      Medium: { total: 2, open: 2, done: 0, overdue: 2 },
    });
    expect(summary.byOwner['Tomás Ortega']).toEqual({ total: 1, open: 0, done: 1, overdue: 0 });
  });

  it('aggregates across documents, counting actions without owner or priority under their own keys', () => {
    const row =
      '| 4 | Let the incident commander approve a rollback alone during a declared incident | Aiko Tanaka | 2026-12-04 | Medium | 3 | open |';
    const other = variant([
      row,
      '| 4 | Let the incident commander approve a rollback alone during a declared incident |  | 2026-12-04 |  | 3 | Done |',
    ]);
    const summary = trackActions([input('a.md', exemplary), input('b.md', other)], '2026-11-28');
    expect(summary).toMatchObject({ total: 8, done: 3, overdue: 2 });
    expect(summary.byOwner['(no owner)']).toEqual({ total: 1, open: 0, done: 1, overdue: 0 });
    expect(summary.byPriority['(no priority)']).toEqual({ total: 1, open: 0, done: 1, overdue: 0 });
  });

  it('keeps its counts consistent for any documents and day', () => {
    const day = fc
      .date({ min: new Date('2020-01-01'), max: new Date('2031-01-01'), noInvalidDate: true })
      .map((d) => d.toISOString().slice(0, 10));
    fc.assert(
      fc.property(fc.array(postMortem, { maxLength: 4 }), day, (docs, today) => {
        const s = trackActions(
          docs.map((doc, i) => ({ file: `${i}.md`, doc, positions: new Map() })),
          today,
        );
        expect(s.open + s.done).toBe(s.total);
        expect(s.overdue).toBeLessThanOrEqual(s.open);
        expect(s.total).toBe(docs.reduce((n, d) => n + (d.actions?.items.length ?? 0), 0));
        for (const group of [s.byOwner, s.byPriority]) expect(Object.values(group).reduce((n, c) => n + c.total, 0)).toBe(s.total);
        if (s.total > 0) expect(s.completionRate).toBe(s.done / s.total);
      }),
      { numRuns: 100 },
    );
  });

  it('refuses a day that is not a date', () => {
    expect(() => trackActions([], '5 Dec')).toThrow('today must be a date');
  });

  it('prints totals, groups and the overdue list', () => {
    const text = formatActions(trackActions([input('a.md', exemplary)], '2026-12-05'));
    expect(text).toContain('Action items as of 2026-12-05: 4 total, 3 open, 2 overdue, 1 done');
    expect(text).toContain('Completion rate 25%');
    expect(text).toMatch(/a\.md:148\s+#2\s+Maya Lindqvist\s+2026-11-27\s+8d/);
  });
});

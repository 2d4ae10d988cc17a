import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { blankPostMortem, PostMortemSchema, PostmortemInputError, parse, render } from '../src/index.js';
import { postMortem } from './support/arbitraries.js';
import { exemplary } from './support/fixtures.js';

describe('parse and render', () => {
  it('parse(render(doc)) equals doc, with no diagnostics, for every canonical document', () => {
    fc.assert(
      fc.property(postMortem, (doc) => {
        const parsed = parse(render(doc));
        expect(parsed.diagnostics).toEqual([]);
        expect(parsed.doc).toEqual(doc);
      }),
      { numRuns: 300 },
    );
    // 300 whole documents parsed and rendered: seconds on a loaded 2-core CI machine.
  }, 120_000);

  it('every generated document satisfies the model schema', () => {
    fc.assert(fc.property(postMortem, (doc) => PostMortemSchema.safeParse(doc).success));
  });

  it('rendering is a fixed point after one parse of a hand-written document', () => {
    const once = render(parse(exemplary).doc);
    expect(render(parse(once).doc)).toBe(once);
    expect(parse(once).doc).toEqual(parse(exemplary).doc);
  });
});

describe('input validation', () => {
  it('render names the first field of a model that is not one', () => {
    const doc = parse(exemplary).doc;
    const broken = { ...doc, timeline: { ...doc.timeline, entries: [{ time: 930, text: 'x', milestone: false }] } };
    expect(() => render(broken as never)).toThrow(
      new PostmortemInputError('render: timeline.entries.0.time: Invalid input: expected string, received number'),
    );
  });

  it('parse refuses what is not text', () => {
    expect(() => parse(42 as never)).toThrow('parse: the text must be a string, got a number (42)');
  });

  it('a template needs a real instant', () => {
    expect(() => blankPostMortem({ now: '2026-11-25 12:00' })).toThrow('blankPostMortem: now must be an ISO 8601 date-time with an offset');
    expect(parse(render(blankPostMortem({ now: '2026-11-25T12:00:00Z' }))).doc).toEqual(blankPostMortem({ now: '2026-11-25T12:00:00Z' }));
  });
});

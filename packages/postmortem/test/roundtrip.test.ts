import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PostMortemSchema, parse, render } from '../src/index.js';
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
  });

  it('every generated document satisfies the model schema', () => {
    fc.assert(fc.property(postMortem, (doc) => PostMortemSchema.safeParse(doc).success));
  });

  it('rendering is a fixed point after one parse of a hand-written document', () => {
    const once = render(parse(exemplary).doc);
    expect(render(parse(once).doc)).toBe(once);
    expect(parse(once).doc).toEqual(parse(exemplary).doc);
  });
});

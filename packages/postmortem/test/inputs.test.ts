import { describe, expect, it } from 'vitest';
import * as api from '../src/index.js';
import { exemplary } from './support/fixtures.js';

/** Every public function that takes data, with a call that hands it `bad` in place of its first argument. */
const ENTRY_POINTS: Record<string, (bad: unknown) => unknown> = {
  parse: (bad) => api.parse(bad as string),
  lint: (bad) => api.lint(bad as string),
  // undefined is the default configuration, so only the other bad values apply.
  'lint (config)': (bad) => api.lint(exemplary, (bad === undefined ? 'default' : bad) as api.LintConfig),
  render: (bad) => api.render(bad as api.PostMortem),
  parseConfig: (bad) => api.parseConfig(bad as string, 'org.yaml'),
  trackActions: (bad) => api.trackActions(bad as [], '2026-12-01'),
  analysePatterns: (bad) => api.analysePatterns(bad as []),
  formatText: (bad) => api.formatText(bad as []),
  formatJson: (bad) => api.formatJson(bad as []),
  formatSarif: (bad) => api.formatSarif(bad as [], { toolVersion: '0', rules: api.RULES }),
  formatActions: (bad) => api.formatActions(bad as never),
  patternReport: (bad) => api.patternReport(bad as never),
  patternChart: (bad) => api.patternChart(bad as never),
  hasErrors: (bad) => api.hasErrors(bad as []),
};

describe('every public entry point refuses input of the wrong type with a clear error', () => {
  describe.each(Object.entries(ENTRY_POINTS))('%s', (name, call) => {
    it.each([undefined, null, 42, true])('given %s', (bad) => {
      let thrown: unknown;
      try {
        call(bad);
      } catch (error) {
        thrown = error;
      }
      expect(thrown, `${name}(${String(bad)}) must throw`).toBeInstanceOf(api.PostmortemInputError);
      const message = (thrown as Error).message;
      expect(message).toMatch(new RegExp(`^${name.split(' ')[0]}: `));
      expect(message).not.toMatch(/Cannot read|is not a function|is not iterable|undefined \(reading/);
    });
  });

  it('lint names what it expected', () => {
    expect(() => api.lint(undefined as never)).toThrow(
      'lint: the input must be the text of a post-mortem (a string) or the result of parse(), got undefined',
    );
  });
});

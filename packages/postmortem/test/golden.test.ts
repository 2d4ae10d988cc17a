import { describe, expect, it } from 'vitest';
import { lint, parse, RULES } from '../src/index.js';
import { exemplary, ruleFixtures } from './support/fixtures.js';

const fixtures = ruleFixtures();

describe('golden documents', () => {
  it('the exemplary post-mortem parses without diagnostics and lints clean', () => {
    expect(parse(exemplary).diagnostics).toEqual([]);
    expect(lint(exemplary)).toEqual([]);
  });

  it('there is exactly one golden document per rule', () => {
    expect([...fixtures.keys()].sort()).toEqual(RULES.map((rule) => rule.id).sort());
  });

  describe.each(RULES.map((rule) => [rule.id, rule] as const))('%s', (id, rule) => {
    it('its golden document triggers exactly this rule, with a position, message and hint', () => {
      const findings = lint(fixtures.get(id) ?? '');
      expect(new Set(findings.map((f) => f.rule))).toEqual(new Set([id]));
      for (const finding of findings) {
        expect(finding.severity).toBe(rule.severity);
        expect(finding.line).toBeGreaterThanOrEqual(1);
        expect(finding.message).not.toBe('');
        expect(finding.hint).toBe(rule.hint);
      }
    });
  });
});

import { describe, expect, it } from 'vitest';
import { ConfigError, defaultConfig, parseConfig, RULES } from '../src/index.js';

describe('organisation configuration', () => {
  it('has defaults for every rule', () => {
    const config = defaultConfig();
    expect([...config.keys()]).toEqual(RULES.map((r) => r.id));
    expect(config.get('action-deadline-too-far')).toEqual({ severity: 'warning', options: { maxDays: 45 } });
  });

  it('reads YAML and JSON with severities and options, keeping defaults for the options left out', () => {
    const yaml = parseConfig('rules:\n  timeline-gap: { severity: error, maxMinutes: 10 }\n  impact-vague: off\n', 'org.yaml');
    expect(yaml.get('timeline-gap')?.severity).toBe('error');
    expect(yaml.get('timeline-gap')?.options).toMatchObject({ maxMinutes: 10, explanations: expect.arrayContaining(['waiting']) });
    expect(yaml.get('impact-vague')?.severity).toBe('off');
    expect(
      parseConfig('{"rules": {"action-no-priority": {"priorities": ["P1", "P2"]}}}', 'org.json').get('action-no-priority')?.options,
    ).toEqual({ priorities: ['P1', 'P2'] });
  });

  it('rejects an unknown rule, severity or option, or a wrong type, with file and line', () => {
    const error = (text: string) => {
      try {
        parseConfig(text, 'org.yaml');
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as Error).message;
      }
      throw new Error('expected a ConfigError');
    };
    expect(error('rules:\n  timeline-gapp: off\n')).toBe('org.yaml:2: unknown rule "timeline-gapp"');
    expect(error('rules:\n  impact-vague: loud\n')).toBe('org.yaml:2: severity of "impact-vague" must be off, error, warning, note');
    expect(error('rules:\n  timeline-gap:\n    maxMinutes: soon\n')).toMatch(
      /^org\.yaml:3: timeline-gap\.maxMinutes: Invalid input: expected number/,
    );
    expect(error('rules:\n  timeline-gap:\n    maxMinute: 5\n')).toMatch(/^org\.yaml:2: timeline-gap: Unrecognized key/);
    expect(error('rule:\n  x: 1\n')).toBe('org.yaml:1: unknown key "rule" (only "rules" is allowed)');
    expect(error('rules: [\n')).toMatch(/^org\.yaml:\d+: /);
  });
});

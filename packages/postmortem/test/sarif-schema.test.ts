import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import AjvModule from 'ajv-draft-04';
import formatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { formatSarif, lint, RULES } from '../src/index.js';
import { exemplary, ruleFixtures } from './support/fixtures.js';

// The OASIS SARIF 2.1.0 JSON Schema (draft-04), as Microsoft's SARIF tooling ships it. One of its patterns
// (language) is not valid with the u flag, hence unicodeRegExp: false.
const require = createRequire(import.meta.url);
const schema = JSON.parse(readFileSync(require.resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json'), 'utf8'));
// Both are CommonJS with a `default` export; under NodeNext the class is one level down.
const Ajv = ((AjvModule as unknown as { default?: unknown }).default ?? AjvModule) as unknown as new (
  options: Record<string, unknown>,
) => { compile(schema: unknown): ((data: unknown) => boolean) & { errors?: unknown[] | null } };
const addFormats = ((formatsModule as unknown as { default?: unknown }).default ?? formatsModule) as (ajv: unknown) => void;
const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
addFormats(ajv);
const validate = ajv.compile(schema);

describe('SARIF output against the official SARIF 2.1.0 JSON Schema', () => {
  it('a log with a finding of every rule, and unreadable files, is valid', () => {
    const results = [...ruleFixtures()].map(([id, text]) => ({ file: `pm/${id}.md`, findings: lint(text) }));
    results.push({ file: '/srv/pm/clean one.md', findings: lint(exemplary) });
    const log = JSON.parse(
      formatSarif(results, { toolVersion: '0.1.0', rules: RULES, unreadable: [{ file: 'pm/binary.md', reason: 'not valid UTF-8' }] }),
    );
    const valid = validate(log);
    expect(validate.errors ?? [], JSON.stringify(validate.errors?.slice(0, 3))).toEqual([]);
    expect(valid).toBe(true);
    expect(log.runs[0].results.length).toBeGreaterThanOrEqual(RULES.length);
  });

  it('the validator is not vacuous: a log with a misspelt level is refused', () => {
    const log = JSON.parse(
      formatSarif([{ file: 'pm/a.md', findings: lint(ruleFixtures().get('timeline-gap')!) }], { toolVersion: '0.1.0', rules: RULES }),
    );
    log.runs[0].results[0].level = 'warn';
    expect(validate(log)).toBe(false);
  });
});

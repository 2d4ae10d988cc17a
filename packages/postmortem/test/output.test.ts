import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { formatJson, formatSarif, formatText, lint, RULES } from '../src/index.js';
import { ruleFixtures } from './support/fixtures.js';

const fixtures = ruleFixtures();
const results = ['timeline-gap', 'action-no-owner'].map((id) => ({ file: `docs/pm ${id}.md`, findings: lint(fixtures.get(id) ?? '') }));

/** The parts of SARIF 2.1.0 that code-review tools read. */
const Sarif = z.object({
  $schema: z.literal('https://json.schemastore.org/sarif-2.1.0.json'),
  version: z.literal('2.1.0'),
  runs: z
    .array(
      z.object({
        tool: z.object({
          driver: z.object({
            name: z.string(),
            version: z.string(),
            rules: z.array(
              z.object({
                id: z.string(),
                shortDescription: z.object({ text: z.string() }),
                defaultConfiguration: z.object({ level: z.enum(['error', 'warning', 'note']) }),
              }),
            ),
          }),
        }),
        results: z.array(
          z.object({
            ruleId: z.string(),
            ruleIndex: z.number().int().nonnegative(),
            level: z.enum(['error', 'warning', 'note']),
            message: z.object({ text: z.string().min(1) }),
            locations: z
              .array(
                z.object({
                  physicalLocation: z.object({
                    artifactLocation: z.object({ uri: z.string() }),
                    region: z.object({ startLine: z.number().int().positive(), startColumn: z.number().int().positive() }),
                  }),
                }),
              )
              .length(1),
          }),
        ),
      }),
    )
    .length(1),
});

describe('output formats', () => {
  it('json is exactly [{file, rule, severity, line, message}]', () => {
    expect(JSON.parse(formatJson(results))).toEqual([
      {
        file: 'docs/pm timeline-gap.md',
        rule: 'timeline-gap',
        severity: 'warning',
        line: 65,
        message: '20 minutes pass between 09:55 and 10:15 without an explanation',
      },
      { file: 'docs/pm action-no-owner.md', rule: 'action-no-owner', severity: 'error', line: 150, message: 'action 4: has no owner' },
    ]);
  });

  it('sarif is a 2.1.0 log whose results point at rules by index and at lines by URI', () => {
    const log = Sarif.parse(JSON.parse(formatSarif(results, { toolVersion: '0.1.0', rules: RULES })));
    const run = log.runs[0];
    expect(run?.tool.driver.rules.map((r) => r.id)).toEqual(RULES.map((r) => r.id));
    for (const result of run?.results ?? []) expect(run?.tool.driver.rules[result.ruleIndex]?.id).toBe(result.ruleId);
    expect(
      run?.results.map((r) => [
        r.ruleId,
        r.level,
        r.locations[0]?.physicalLocation.artifactLocation.uri,
        r.locations[0]?.physicalLocation.region.startLine,
      ]),
    ).toEqual([
      ['timeline-gap', 'warning', 'docs/pm%20timeline-gap.md', 65],
      ['action-no-owner', 'error', 'docs/pm%20action-no-owner.md', 150],
    ]);
  });

  it('sarif gives absolute paths as file URIs and keeps relative ones relative', () => {
    const files = ['/srv/pm/a b.md', 'C:\\pm\\c.md', 'pm/d.md'];
    const log = Sarif.parse(
      JSON.parse(
        formatSarif(
          files.map((file) => ({ file, findings: results[1]!.findings })),
          { toolVersion: '0.1.0', rules: RULES },
        ),
      ),
    );
    expect(log.runs[0]?.results.map((r) => r.locations[0]?.physicalLocation.artifactLocation.uri)).toEqual([
      'file:///srv/pm/a%20b.md',
      'file:///C:/pm/c.md',
      'pm/d.md',
    ]);
  });

  it('text gives file:line:column, severity, rule, message and hint, then the counts', () => {
    const text = formatText(results);
    expect(text).toContain(
      'docs/pm action-no-owner.md:150:86  error    action-no-owner  action 4: has no owner\n    hint: Name the person responsible for completing it.',
    );
    expect(text.split('\n').at(-1)).toBe('1 error, 1 warning, 0 notes in 2 files');
  });
});

import { describe, expectList, PostmortemInputError } from '../input.js';
import { type Parsed, parse } from '../parse/index.js';
import { defaultConfig, type LintConfig } from './config.js';
import { type Finding, RuleContext } from './rule.js';
import { RULES } from './rules/index.js';

/** Reviews one document: every enabled rule, findings ordered by position. Pure: same text and config, same findings. */
export function lint(input: string | Parsed, config: LintConfig = defaultConfig()): Finding[] {
  if (typeof input !== 'string' && !isParsed(input))
    throw new PostmortemInputError(
      `lint: the input must be the text of a post-mortem (a string) or the result of parse(), got ${describe(input)}`,
    );
  if (!(config instanceof Map))
    throw new PostmortemInputError(
      `lint: the configuration must come from defaultConfig(), resolveConfig() or parseConfig(), got ${describe(config)}`,
    );
  const parsed = typeof input === 'string' ? parse(input) : input;
  const context = new RuleContext(parsed.doc, parsed.positions, parsed.diagnostics);
  const findings: Finding[] = [];
  for (const rule of RULES) {
    const setting = config.get(rule.id) ?? { severity: rule.severity, options: rule.options.parse({}) };
    if (setting.severity === 'off') continue;
    for (const report of rule.check(context, setting.options)) {
      findings.push({ rule: rule.id, severity: setting.severity, message: report.message, hint: rule.hint, ...report.at });
    }
  }
  return findings.sort((a, b) => a.line - b.line || a.column - b.column || a.rule.localeCompare(b.rule));
}

export function hasErrors(findings: readonly Finding[]): boolean {
  expectList(findings, 'hasErrors', 'the findings');
  return findings.some((f) => f !== null && typeof f === 'object' && f.severity === 'error');
}

function isParsed(value: unknown): value is Parsed {
  const candidate = value as Partial<Parsed> | null;
  return (
    candidate !== null &&
    typeof candidate === 'object' &&
    typeof candidate.doc === 'object' &&
    candidate.doc !== null &&
    candidate.positions instanceof Map &&
    Array.isArray(candidate.diagnostics)
  );
}

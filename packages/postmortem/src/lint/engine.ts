import { type Parsed, parse } from '../parse/index.js';
import { defaultConfig, type LintConfig } from './config.js';
import { type Finding, RuleContext } from './rule.js';
import { RULES } from './rules/index.js';

/** Reviews one document: every enabled rule, findings ordered by position. Pure: same text and config, same findings. */
export function lint(input: string | Parsed, config: LintConfig = defaultConfig()): Finding[] {
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

export const hasErrors = (findings: readonly Finding[]): boolean => findings.some((f) => f.severity === 'error');

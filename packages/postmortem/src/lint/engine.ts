import { describe, expectList, PostmortemInputError } from '../input.js';
import { TEMPLATES, type TemplateName } from '../model/schema.js';
import { type Parsed, parse } from '../parse/index.js';
import { defaultConfig, type LintConfig, type RuleSetting } from './config.js';
import { presetConfig } from './presets.js';
import { type Finding, RuleContext } from './rule.js';
import { RULES } from './rules/index.js';

export interface LintOptions {
  /** Review against this template's preset; by default the one the front matter's `template` names, if any. */
  readonly preset?: TemplateName;
}

/**
 * Reviews one document: every enabled rule, findings ordered by position. Pure: same text and config, same findings.
 * Settings come from the organisation's configuration where it sets them, else from the template's preset
 * (the `preset` option, else the front matter's `template`), else the rule's defaults.
 */
export function lint(input: string | Parsed, config: LintConfig = defaultConfig(), options: LintOptions = {}): Finding[] {
  if (typeof input !== 'string' && !isParsed(input))
    throw new PostmortemInputError(
      `lint: the input must be the text of a post-mortem (a string) or the result of parse(), got ${describe(input)}`,
    );
  if (!(config instanceof Map))
    throw new PostmortemInputError(
      `lint: the configuration must come from defaultConfig(), resolveConfig() or parseConfig(), got ${describe(config)}`,
    );
  if (options === null || typeof options !== 'object')
    throw new PostmortemInputError(`lint: the options must be an object, got ${describe(options)}`);
  if (options.preset !== undefined && !(TEMPLATES as readonly unknown[]).includes(options.preset))
    throw new PostmortemInputError(`lint: options.preset must be one of ${TEMPLATES.join(', ')}, got ${describe(options.preset)}`);
  const parsed = typeof input === 'string' ? parse(input) : input;
  const presetName = options.preset ?? parsed.doc.frontMatter.template;
  const preset = presetName === undefined ? undefined : presetConfig(presetName);
  const settingOf = (id: string): RuleSetting | undefined => {
    const own = config.get(id);
    return own?.explicit ? own : (preset?.get(id) ?? own);
  };
  const context = new RuleContext(parsed.doc, parsed.positions, parsed.diagnostics);
  const findings: Finding[] = [];
  for (const rule of RULES) {
    const setting = settingOf(rule.id) ?? { severity: rule.severity, options: rule.options.parse({}) };
    if (setting.severity === 'off') continue;
    for (const report of rule.check(context, setting.options)) {
      findings.push({ rule: rule.id, severity: setting.severity, message: report.message, hint: rule.hint, ...report.at });
    }
  }
  return applySuppressions(findings, parsed, settingOf).sort(
    (a, b) => a.line - b.line || a.column - b.column || a.rule.localeCompare(b.rule),
  );
}

/**
 * Drops the findings an inline comment silences, and reports comments that name an unknown rule
 * (`suppression-invalid`) or silence nothing (`suppression-unused`), so a stale exception surfaces.
 */
function applySuppressions(findings: Finding[], parsed: Parsed, settingOf: (id: string) => RuleSetting | undefined): Finding[] {
  const suppressions = parsed.suppressions ?? [];
  if (suppressions.length === 0) return findings;
  const known = new Set(RULES.map((rule) => rule.id));
  const used = new Set<number>();
  const kept = findings.filter((finding) => {
    const index = suppressions.findIndex((s) => s.target === finding.line && s.rules.includes(finding.rule));
    if (index >= 0) used.add(index);
    return index < 0;
  });
  const extra = (id: string, message: string, at: { line: number; column: number }) => {
    const rule = RULES.find((r) => r.id === id)!;
    const setting = settingOf(id) ?? { severity: rule.severity };
    if (setting.severity !== 'off') kept.push({ rule: id, severity: setting.severity, message, hint: rule.hint, ...at });
  };
  suppressions.forEach((s, i) => {
    const unknown = s.rules.filter((id) => !known.has(id));
    if (unknown.length > 0)
      extra(
        'suppression-invalid',
        `the suppression names ${unknown.map((id) => `"${id}"`).join(', ')}, which ${unknown.length > 1 ? 'are not rules' : 'is not a rule'}`,
        s,
      );
    else if (!used.has(i)) extra('suppression-unused', `the suppression of ${s.rules.join(', ')} silences nothing on line ${s.target}`, s);
  });
  return kept;
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

export { ConfigError, defaultConfig, type LintConfig, parseConfig, type RuleSetting, resolveConfig } from './lint/config.js';
export { hasErrors, lint } from './lint/engine.js';
export { type Finding, type Report, type Rule, RuleContext, SEVERITIES, type Severity } from './lint/rule.js';
export { RULES } from './lint/rules/index.js';
export { LineIndex, type Position, type SourceMap } from './model/positions.js';
export {
  type ActionItem,
  type Branch,
  type Figure,
  type FrontMatter,
  FrontMatterSchema,
  type Lesson,
  type PostMortem,
  PostMortemSchema,
  postMortemJsonSchema,
  type TimelineEntry,
  type Why,
} from './model/schema.js';
export { headingOf, SECTIONS, type SectionKey } from './model/sections.js';
export type { Diagnostic, DiagnosticCode } from './parse/diagnostics.js';
export { type Parsed, parse } from './parse/index.js';
export { render } from './render/index.js';

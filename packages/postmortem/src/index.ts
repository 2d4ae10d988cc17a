export { formatActions } from './actions/format.js';
export { type ActionSummary, type Counts, DONE_STATUSES, type TrackedAction, type TrackInput, trackActions } from './actions/track.js';
export { type LoadedDocument, loadDocuments, type Unreadable } from './files/load.js';
export { PostmortemInputError } from './input.js';
export { type FetchJobOptions, fetchJob, JobFetchError, jobUrl } from './job/client.js';
export { failingTasks, formatDuration, postMortemFromJob, taskDuration } from './job/from-job.js';
export { type Job, JobFormatError, JobSchema, readJob } from './job/wire.js';
export { ConfigError, defaultConfig, type LintConfig, parseConfig, type RuleSetting, resolveConfig } from './lint/config.js';
export { hasErrors, type LintOptions, lint } from './lint/engine.js';
export { PRESETS, presetConfig } from './lint/presets.js';
export { type Finding, type Report, type Rule, RuleContext, SEVERITIES, type Severity } from './lint/rule.js';
export { RULES } from './lint/rules/index.js';
export { LineIndex, type Position, type SourceMap } from './model/positions.js';
export {
  type ActionItem,
  assertPostMortem,
  type Branch,
  type Figure,
  type FrontMatter,
  FrontMatterSchema,
  type Lesson,
  type PostMortem,
  PostMortemSchema,
  postMortemJsonSchema,
  reviewersOf,
  TEMPLATES,
  type TemplateName,
  type TimelineEntry,
  type Why,
} from './model/schema.js';
export { headingOf, SECTIONS, type SectionKey } from './model/sections.js';
export type { Diagnostic, DiagnosticCode } from './parse/diagnostics.js';
export { type Parsed, parse } from './parse/index.js';
export { analysePatterns, type Hit, type PatternAnalysis, type PatternInput, periodOf, type SquareCount } from './patterns/analyse.js';
export { patternReport, type ReportOptions } from './patterns/report.js';
export { SQUARES, type Square } from './patterns/squares.js';
export { patternChart } from './patterns/svg.js';
export { render } from './render/index.js';
export { type FileFindings, FORMATS, type Format, formatJson, formatText } from './report/formats.js';
export { formatSarif, SARIF_SCHEMA, type SarifOptions } from './report/sarif.js';
export { blankPostMortem, type TemplateOptions } from './template/blank.js';
export { version } from './version.js';

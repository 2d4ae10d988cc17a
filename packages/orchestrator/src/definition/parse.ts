import { type DefinitionError, DefinitionValidationError, type Finding } from './errors.js';
import { describeIssue, findingsFromIssues } from './issues.js';
import { BUILT_IN_METHODS, type JobDefinition } from './model.js';
import { normalizeJobDefinition } from './normalize.js';
import { jobSchema } from './schema.js';
import { semanticFindings } from './semantics.js';
import { formatPath, readSource, type SourceDocument } from './source.js';

export interface ParseOptions {
  /** Shown in every error; defaults to `<definition>`. */
  readonly fileName?: string;
  /** The methods this queen can run; defaults to BUILT_IN_METHODS. */
  readonly methods?: readonly string[];
}

export type CheckResult =
  | { readonly ok: true; readonly definition: JobDefinition }
  | { readonly ok: false; readonly errors: readonly DefinitionError[] };

/** Parses and validates, returning every problem instead of throwing (for `myrmex validate` and the API). */
export function checkJobDefinition(source: string, options: ParseOptions = {}): CheckResult {
  if (typeof source !== 'string') throw new TypeError(`definition source must be a string, got ${typeof source}`);
  const file = options.fileName ?? '<definition>';
  const methods = options.methods ?? BUILT_IN_METHODS;
  const { document, errors } = readSource(source, file);
  if (document === undefined) return { ok: false, errors };
  const parsed = jobSchema.safeParse(document.value, { error: describeIssue, reportInput: true });
  const findings = [...(parsed.success ? [] : findingsFromIssues(parsed.error.issues)), ...semanticFindings(document.value, methods)];
  if (findings.length > 0 || !parsed.success) return { ok: false, errors: locate(findings, document, file) };
  return { ok: true, definition: normalizeJobDefinition(parsed.data) };
}

/** YAML or JSON text to the normalised definition; throws DefinitionValidationError listing every problem. */
export function parseJobDefinition(source: string, options: ParseOptions = {}): JobDefinition {
  const result = checkJobDefinition(source, options);
  if (!result.ok) throw new DefinitionValidationError(result.errors);
  return result.definition;
}

function locate(findings: readonly Finding[], document: SourceDocument, file: string): DefinitionError[] {
  const errors = findings.map((finding): DefinitionError => {
    const path = formatPath(finding.path);
    return {
      file,
      ...document.locate(finding.path, finding.at),
      path,
      message: path === '' ? finding.message : `${path}: ${finding.message}`,
    };
  });
  const unique = new Map(errors.map((error) => [`${error.line}:${error.column}:${error.message}`, error]));
  return [...unique.values()].sort((a, b) => a.line - b.line || a.column - b.column || a.message.localeCompare(b.message));
}

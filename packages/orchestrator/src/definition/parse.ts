import { type DefinitionError, DefinitionValidationError, type Finding } from './errors.js';
import { describeIssue, findingsFromIssues } from './issues.js';
import { DEFINITION_METHODS, type JobDefinition } from './model.js';
import { normalizeJobDefinition } from './normalize.js';
import { jobSchema } from './schema.js';
import { semanticFindings } from './semantics.js';
import { formatPath, readSource, type SourceDocument, type TemplateOptions } from './source.js';

export interface ParseOptions extends Pick<TemplateOptions, 'params' | 'functions'> {
  /** Shown in every error; defaults to `<definition>`. */
  readonly fileName?: string;
  /** The methods accepted; defaults to every method a definition may name (DEFINITION_METHODS). A queen passes the ones it runs. */
  readonly methods?: readonly string[];
}

/**
 * `notes` say what template rendering decided about values nobody gave (a condition on a missing
 * param taken as false), positioned in the file; they are not errors.
 */
export type CheckResult =
  | { readonly ok: true; readonly definition: JobDefinition; readonly notes: readonly DefinitionError[] }
  | { readonly ok: false; readonly errors: readonly DefinitionError[]; readonly notes: readonly DefinitionError[] };

/** Parses and validates, returning every problem instead of throwing (for `myrmex validate` and the API). */
export function checkJobDefinition(source: string, options: ParseOptions = {}): CheckResult {
  if (typeof source !== 'string') throw new TypeError(`definition source must be a string, got ${typeof source}`);
  const file = options.fileName ?? '<definition>';
  const methods = options.methods ?? DEFINITION_METHODS;
  const template: TemplateOptions = {
    ...(options.params === undefined ? {} : { params: options.params }),
    ...(options.functions === undefined ? {} : { functions: options.functions }),
  };
  const first = checkOnce(source, file, methods, { ...template, missingIs: false });
  if (!first.ok || first.notes.every((note) => !note.message.includes('is taken as false'))) return first;
  // A multi-line {{if}} on a missing param chose its else branch; the other branch must be sound too.
  const other = checkOnce(source, file, methods, { ...template, missingIs: true });
  if (other.ok) return first;
  const errors = other.errors.map((error) => ({
    ...error,
    message: `${error.message} (with the conditions on missing params taken as true)`,
  }));
  return { ok: false, errors, notes: first.notes };
}

function checkOnce(source: string, file: string, methods: readonly string[], template: TemplateOptions): CheckResult {
  const { document, errors, notes } = readSource(source, file, template);
  if (document === undefined) return { ok: false, errors, notes };
  const parsed = jobSchema.safeParse(document.value, { error: describeIssue, reportInput: true });
  const findings = [...(parsed.success ? [] : findingsFromIssues(parsed.error.issues)), ...semanticFindings(document.value, methods)];
  if (findings.length > 0 || !parsed.success) return { ok: false, errors: locate(findings, document, file), notes };
  return { ok: true, definition: normalizeJobDefinition(parsed.data), notes };
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

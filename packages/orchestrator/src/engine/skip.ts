import { renderGoTemplate } from '../definition/gotemplate/render.js';
import type { JobDefinition } from '../definition/model.js';
import type { JobRow } from '../store/store.js';

/**
 * A job's `skip_if` at admission: rendered as a Go template with the job variables, the request's
 * params over them and the job built-ins; the job is skipped when the text reads `true` (trimmed,
 * any case), as Formicary's `{{if eq .Target "charlie"}} true {{end}}` does. Returns the reason to
 * skip with, or undefined to run; a value nobody gave makes a condition false (Go's nil). Throws TemplateRenderError when the template cannot be evaluated.
 */
export function jobSkipReason(definition: JobDefinition, job: Pick<JobRow, 'id' | 'jobType' | 'retry' | 'params'>): string | undefined {
  if (definition.skipIf === undefined) return undefined;
  const data = { ...definition.jobVariables, ...job.params, JobID: job.id, JobType: job.jobType, JobRetry: job.retry };
  const words = renderGoTemplate(definition.skipIf, { data }).text.trim().split(/\s+/);
  // skip_if and except are one text: `true true` (both held) skips like `true`.
  return words.every((word) => word.toLowerCase() === 'true') ? 'skipped: skip_if is true' : undefined;
}

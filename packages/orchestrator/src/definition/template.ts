/** Built-in template variables, looked up last. */
export interface TemplateBuiltIns {
  readonly JobID: string;
  readonly JobType: string;
  readonly JobRetry: number;
  readonly TaskType: string;
  readonly TaskRetry: number;
}

/** Where `{{.Name}}` is looked up, in this order. */
export interface TemplateScope {
  readonly params: Readonly<Record<string, unknown>>;
  readonly taskVariables: Readonly<Record<string, unknown>>;
  readonly jobVariables: Readonly<Record<string, unknown>>;
  /** Outputs of finished tasks, flat: the latest task that set a key wins. */
  readonly outputs: Readonly<Record<string, string>>;
  readonly builtIns: TemplateBuiltIns;
}

/** A template names a variable that no scope has; the attempt fails with this reason. */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
  readonly variable: string;

  constructor(variable: string) {
    super(`unknown template variable '${variable}': not a request param, task or job variable, task output or built-in`);
    this.variable = variable;
  }
}

/** Go-template style, the only form Formicary definitions use; spaces inside the braces are allowed. */
const PLACEHOLDER = /\{\{\s*\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** The variable names a text refers to, in order of first use. */
export function templateVariables(text: string): readonly string[] {
  return [...new Set(Array.from(text.matchAll(PLACEHOLDER), (match) => match[1]!))];
}

/** Replaces every `{{.Name}}`; other text, including unmatched braces, is kept as written. */
export function renderTemplate(text: string, scope: TemplateScope): string {
  return text.replace(PLACEHOLDER, (_, variable: string) => asText(lookup(variable, scope)));
}

/** Renders every string inside objects and arrays (keys are kept as written). */
export function renderValue(value: unknown, scope: TemplateScope): unknown {
  if (typeof value === 'string') return renderTemplate(value, scope);
  if (Array.isArray(value)) return value.map((item) => renderValue(item, scope));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, renderValue(item, scope)]));
  }
  return value;
}

function lookup(variable: string, scope: TemplateScope): unknown {
  for (const source of [scope.params, scope.taskVariables, scope.jobVariables, scope.outputs, scope.builtIns]) {
    if (Object.hasOwn(source, variable) && (source as Record<string, unknown>)[variable] !== undefined) {
      return (source as Record<string, unknown>)[variable];
    }
  }
  throw new TemplateError(variable);
}

/** Scalars as their text, null as nothing, structures as JSON (so a list variable can feed a JSON body or a script). */
function asText(value: unknown): string {
  if (value === null) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

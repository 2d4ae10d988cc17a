/** Built-in template variables, looked up last. */
export interface TemplateBuiltIns {
  readonly JobID: string;
  readonly JobType: string;
  readonly JobRetry: number;
  readonly TaskType: string;
  readonly TaskRetry: number;
  /** The definition's `sem_version`, when it declares one (Formicary's `.SemVersion`). */
  readonly SemVersion?: string;
}

/** Where `{{.Name}}` is looked up, in this order. */
export interface TemplateScope {
  readonly params: Readonly<Record<string, unknown>>;
  readonly taskVariables: Readonly<Record<string, unknown>>;
  readonly jobVariables: Readonly<Record<string, unknown>>;
  /** Outputs of finished tasks, flat: the latest task that set a key wins. */
  readonly outputs: Readonly<Record<string, string>>;
  readonly builtIns: TemplateBuiltIns;
  /** `{{.Secrets.NAME}}`: the organisation's secrets this task refers to, read at run time (issue 17). */
  readonly secrets?: Readonly<Record<string, string>>;
}

/** A template cannot be rendered (an unknown variable, variables that refer to each other); the attempt fails with this reason. */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
  readonly variable: string;

  constructor(variable: string, message?: string) {
    super(message ?? `unknown template variable '${variable}': not a request param, task or job variable, task output or built-in`);
    this.variable = variable;
  }
}

/** Rendered text beyond this is refused: variables that expand each other twice over grow exponentially. */
export const MAX_RENDERED_LENGTH = 1024 * 1024;

/** Go-template style, the only form Formicary definitions use; spaces inside the braces are allowed. */
const PLACEHOLDER = /\{\{\s*\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** The variable names a text refers to, in order of first use. */
export function templateVariables(text: string): readonly string[] {
  return [...new Set(Array.from(text.matchAll(PLACEHOLDER), (match) => match[1]!))];
}

/**
 * Replaces every `{{.Name}}`; other text, including unmatched braces, is kept as written.
 * Task and job variables may themselves hold templates: they are rendered when looked up, so a
 * variable that names an output of a task that has not run yet only matters to tasks that use it.
 */
export function renderTemplate(text: string, scope: TemplateScope): string {
  return renderText(text, scope, []);
}

/** Renders every string inside objects and arrays (keys are kept as written). */
export function renderValue(value: unknown, scope: TemplateScope): unknown {
  return renderIn(value, scope, []);
}

/** Variables and secrets in one pass: a value put in is never scanned again, so a param holding `{{.Secrets.X}}` stays text. */
const PLACEHOLDER_OR_SECRET = /\{\{\s*\.(?:(Secrets)\.)?([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

function secret(name: string, scope: TemplateScope): string {
  const value = scope.secrets?.[name];
  if (value === undefined || !Object.hasOwn(scope.secrets ?? {}, name)) {
    throw new TemplateError(`Secrets.${name}`, `unknown secret '${name}': it is not defined for this job's organisation`);
  }
  return value;
}

function renderText(text: string, scope: TemplateScope, resolving: readonly string[]): string {
  const rendered = text.replace(PLACEHOLDER_OR_SECRET, (_, isSecret: string | undefined, variable: string) =>
    isSecret ? secret(variable, scope) : asText(lookup(variable, scope, resolving)),
  );
  if (rendered.length > MAX_RENDERED_LENGTH) {
    const variable = templateVariables(text)[0] ?? '';
    throw new TemplateError(variable, `template expands to more than ${MAX_RENDERED_LENGTH} characters (at variable '${variable}')`);
  }
  return rendered;
}

function renderIn(value: unknown, scope: TemplateScope, resolving: readonly string[]): unknown {
  if (typeof value === 'string') return renderText(value, scope, resolving);
  if (Array.isArray(value)) return value.map((item) => renderIn(item, scope, resolving));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, renderIn(item, scope, resolving)]));
  }
  return value;
}

function lookup(variable: string, scope: TemplateScope, resolving: readonly string[]): unknown {
  // Params, outputs and built-ins are data and used as given; only definition variables are templates.
  const sources: readonly [Readonly<Record<string, unknown>>, boolean][] = [
    [scope.params, false],
    [scope.taskVariables, true],
    [scope.jobVariables, true],
    [scope.outputs, false],
    [scope.builtIns as unknown as Readonly<Record<string, unknown>>, false],
  ];
  for (const [source, templated] of sources) {
    if (!Object.hasOwn(source, variable) || source[variable] === undefined) continue;
    const value = source[variable];
    if (!templated) return value;
    if (resolving.includes(variable)) {
      const cycle = [...resolving.slice(resolving.indexOf(variable)), variable].join(' -> ');
      throw new TemplateError(variable, `template variables refer to each other in a cycle: ${cycle}`);
    }
    return renderIn(value, scope, [...resolving, variable]);
  }
  throw new TemplateError(variable);
}

/** Scalars as their text, null as nothing, structures as JSON (so a list variable can feed a JSON body or a script). */
function asText(value: unknown): string {
  if (value === null) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

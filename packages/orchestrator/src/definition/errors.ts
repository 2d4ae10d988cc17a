/** One problem in a definition, located at the node that causes it. */
export interface DefinitionError {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
  /** Where in the document, e.g. `tasks[2].dependencies[0]`; empty for the document itself. */
  readonly path: string;
  readonly message: string;
}

export function formatDefinitionError(error: DefinitionError): string {
  return `${error.file}:${error.line}:${error.column}: ${error.message}`;
}

/** Thrown with every problem found, never just the first; the message has one `file:line:col: message` per line. */
export class DefinitionValidationError extends Error {
  override readonly name = 'DefinitionValidationError';
  readonly errors: readonly DefinitionError[];

  constructor(errors: readonly DefinitionError[]) {
    super(errors.map(formatDefinitionError).join('\n'));
    this.errors = errors;
  }
}

/** A problem before it is located in the source: the path of the offending node and what is wrong. */
export interface Finding {
  readonly path: readonly (string | number)[];
  /** Point at the key of the node rather than its value (unknown or invalid keys). */
  readonly at?: 'value' | 'key';
  readonly message: string;
}

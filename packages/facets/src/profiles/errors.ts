import { FacetError } from '../core/errors.js';

/** A position in a profile file (1-based). */
export interface SourceLocation {
  readonly source: string;
  readonly line: number;
  readonly column: number;
}

/** A profile that cannot be loaded or composed; the message starts with `file:line:column: field:`. */
export class ProfileError extends FacetError {
  override name = 'ProfileError';
  constructor(
    readonly field: string,
    readonly detail: string,
    readonly location: SourceLocation | undefined,
  ) {
    super(`${location === undefined ? '' : `${location.source}:${location.line}:${location.column}: `}${field}: ${detail}`);
  }
}

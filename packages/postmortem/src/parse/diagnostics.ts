import type { Position } from '../model/positions.js';

/** Problems the parser found while still building the best model it could. Each code is also a lint rule. */
export const DIAGNOSTIC_CODES = [
  'front-matter-missing',
  'front-matter-invalid',
  'timeline-entry-malformed',
  'action-table-malformed',
  'suppression-invalid',
] as const;
export type DiagnosticCode = (typeof DIAGNOSTIC_CODES)[number];

export interface Diagnostic extends Position {
  readonly code: DiagnosticCode;
  readonly message: string;
  /** timeline-entry-malformed: the entry has a time but no ` - ` after it (its time and text were still read). */
  readonly lacksSeparator?: true;
  /** action-table-malformed: the canonical headers of the columns the table lacks. */
  readonly missingColumns?: readonly string[];
}

import type { Position } from '../model/positions.js';

/** Problems the parser found while still building the best model it could. Each code is also a lint rule. */
export const DIAGNOSTIC_CODES = [
  'front-matter-missing',
  'front-matter-invalid',
  'timeline-entry-malformed',
  'action-table-malformed',
] as const;
export type DiagnosticCode = (typeof DIAGNOSTIC_CODES)[number];

export interface Diagnostic extends Position {
  readonly code: DiagnosticCode;
  readonly message: string;
}

import type { z } from 'zod';
import { type Position, positionWithin, type SourceMap } from '../model/positions.js';
import type { PostMortem } from '../model/schema.js';
import type { Diagnostic } from '../parse/diagnostics.js';

export const SEVERITIES = ['error', 'warning', 'note'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** What a rule says about one place in the document. */
export interface Report {
  readonly message: string;
  readonly at: Position;
}

export interface Finding extends Position {
  readonly rule: string;
  readonly severity: Severity;
  readonly message: string;
  readonly hint: string;
}

/** Everything a rule may look at; rules are pure functions of it. */
export class RuleContext {
  constructor(
    readonly doc: PostMortem,
    readonly positions: SourceMap,
    readonly diagnostics: readonly Diagnostic[],
  ) {}

  /** The position of the first path that was recorded, else line 1. */
  at(...paths: string[]): Position {
    for (const path of paths) {
      const position = this.positions.get(path);
      if (position) return position;
    }
    return { line: 1, column: 1 };
  }

  /** The position of a character inside a prose section recorded at `path`. */
  within(path: string, text: string, index: number): Position {
    const start = this.positions.get(path);
    return start ? positionWithin(start, text, index) : this.at(`/sections/${path.slice(1)}`);
  }
}

export interface Rule {
  /** Stable: configuration files and suppressions refer to it. */
  readonly id: string;
  readonly severity: Severity;
  /** What it catches. */
  readonly summary: string;
  /** Why it matters. */
  readonly why: string;
  /** How to fix it; printed with every finding. */
  readonly hint: string;
  /** Options with their defaults: `options.parse({})` gives the defaults. */
  readonly options: z.ZodType;
  /** `options` is the output of `this.options`, which the engine parses before calling. */
  check(context: RuleContext, options: unknown): Report[];
}

/** Types a rule's `check` by its own options schema, then stores it with the rest. */
export function defineRule<S extends z.ZodType>(
  rule: Omit<Rule, 'options' | 'check'> & { options: S; check(context: RuleContext, options: z.output<S>): Report[] },
): Rule {
  return rule as Rule;
}

import type { Command } from 'commander';

/** Where a command writes. Tests pass their own; the binary passes the process streams. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export interface CliContext {
  readonly io: Io;
  readonly env: NodeJS.ProcessEnv;
  /** The process exits with the highest code any action set. */
  fail(code: number): void;
}

/** A subcommand family (`myrmex byzantine ...`, `myrmex postmortem ...`) or a set of top-level commands. */
export type RegisterCommands = (program: Command, context: CliContext) => void;

/** A bad argument: printed as one line, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const processIo: Io = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
};

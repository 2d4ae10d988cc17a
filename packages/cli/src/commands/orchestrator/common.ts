import type { Command } from 'commander';
import { type CliContext, UsageError } from '../../context.js';
import { ApiError, DEFAULT_SERVER, QueenClient, UnreachableError } from './client.js';
import { formatProblem } from './format.js';

export interface ServerOptions {
  readonly server?: string;
  readonly json?: boolean;
}

/** `--server` and `--json`, which every command that talks to the queen takes. */
export function withServerOptions(command: Command): Command {
  return command
    .option('--server <url>', `the queen's URL (default: $MYRMEX_SERVER or ${DEFAULT_SERVER})`)
    .option('--json', 'print machine-readable JSON');
}

export function clientFor(options: ServerOptions, context: CliContext): QueenClient {
  const server = options.server ?? context.env.MYRMEX_SERVER ?? DEFAULT_SERVER;
  if (!/^https?:\/\/[^/]+/.test(server)) throw new UsageError(`--server must be an http(s) URL, got '${server}'`);
  return new QueenClient(server, context.env.MYRMEX_TOKEN);
}

/**
 * Runs a command's body: a problem from the queen or an unreachable queen becomes a clear message
 * (or, under --json, the problem document on stdout) and exit code 1.
 */
export async function runAction(context: CliContext, json: boolean | undefined, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    if (error instanceof ApiError) {
      if (json) context.io.out(JSON.stringify(error.problem));
      else context.io.err(`myrmex: ${formatProblem(error.problem)}`);
      context.fail(1);
      return;
    }
    if (error instanceof UnreachableError) {
      if (json) context.io.out(JSON.stringify({ type: 'urn:myrmex:problem:unreachable', title: 'Unreachable', detail: error.message }));
      else context.io.err(`myrmex: ${error.message}`);
      context.fail(1);
      return;
    }
    throw error;
  }
}

export function parseInteger(name: string, min: number, max: number): (value: string) => number {
  return (value) => {
    const number = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || number < min || number > max) {
      throw new UsageError(`${name} must be an integer from ${min} to ${max}, got '${value}'`);
    }
    return number;
  };
}

/**
 * `--param k=v` gives the string v; `--param k:=json` gives the parsed JSON value (number, boolean,
 * object), as httpie does, so `--param version=1.10` never turns into 1.1 by accident.
 */
export function collectParam(value: string, previous: Record<string, unknown> = {}): Record<string, unknown> {
  const typed = /^([^=:]+):=(.*)$/s.exec(value);
  if (typed) {
    const [, key = '', json = ''] = typed;
    try {
      return { ...previous, [key]: JSON.parse(json) };
    } catch {
      throw new UsageError(`--param ${key}:= needs a JSON value, got '${json}' (use ${key}=text for a string)`);
    }
  }
  const plain = /^([^=]+)=(.*)$/s.exec(value);
  if (!plain) throw new UsageError(`--param must be key=value or key:=json, got '${value}'`);
  const [, key = '', text = ''] = plain;
  return { ...previous, [key]: text };
}

export function parseInstant(value: string): string {
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw new UsageError(`--scheduled-at must be an ISO 8601 date-time, got '${value}'`);
  return new Date(time).toISOString();
}

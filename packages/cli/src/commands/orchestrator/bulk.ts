import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { type CliContext, UsageError } from '../../context.js';
import type { SubmitInput } from './client.js';
import { clientFor, runAction, type ServerOptions, withServerOptions } from './common.js';

/** The server takes at most this many requests per bulk call (one transaction each). */
const CALL_SIZE = 1000;

/**
 * Reads submit requests from a JSON array or JSON Lines (one request object per line, blank lines
 * and `#` comments skipped); an error names the file and the line.
 */
export function parseRequests(text: string, file: string): SubmitInput[] {
  const check = (value: unknown, where: string): SubmitInput => {
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new UsageError(`${where}: a request must be an object like {"job_type": "build", "params": {}}`);
    if (typeof (value as { job_type?: unknown }).job_type !== 'string')
      throw new UsageError(`${where}: job_type is required and must be a string`);
    return value as SubmitInput;
  };
  if (text.trimStart().startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new UsageError(`${file}: not valid JSON: ${(error as Error).message}`);
    }
    return (parsed as unknown[]).map((value, i) => check(value, `${file}: request ${i + 1}`));
  }
  const requests: SubmitInput[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new UsageError(`${file}:${i + 1}: not valid JSON: ${(error as Error).message}`);
    }
    requests.push(check(value, `${file}:${i + 1}`));
  }
  return requests;
}

/** `myrmex submit-many <file>`: many requests from a file, 1,000 per call, each call all or none. */
export function registerBulkCommand(program: Command, context: CliContext): void {
  const { io } = context;
  withServerOptions(program.command('submit-many <file>'))
    .description('submit the requests in a JSON array or JSON Lines file (- for stdin), 1,000 per call; each call is all or none')
    .action(async (file: string, options: ServerOptions) => {
      const client = clientFor(options, context);
      await runAction(context, options.json, async () => {
        const text = file === '-' ? await new Response(process.stdin as unknown as ReadableStream).text() : await readFile(file, 'utf8');
        const requests = parseRequests(text, file);
        if (requests.length === 0) throw new UsageError(`${file}: no requests in it`);
        const ids: string[] = [];
        for (let start = 0; start < requests.length; start += CALL_SIZE) {
          const created = await client.submitMany(requests.slice(start, start + CALL_SIZE));
          ids.push(...created.map((job) => job.id));
        }
        io.out(options.json ? JSON.stringify(ids) : `submitted ${ids.length} job requests`);
      });
    });
}

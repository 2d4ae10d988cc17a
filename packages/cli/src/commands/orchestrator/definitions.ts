import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from '../../context.js';
import { clientFor, runAction, type ServerOptions, withServerOptions } from './common.js';

async function readSource(file: string, context: CliContext): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    context.io.err(`myrmex: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    context.fail(1);
    return undefined;
  }
}

export function registerDefinitionCommands(program: Command, context: CliContext): void {
  const { io } = context;

  program
    .command('validate <file>')
    .description('check a job definition locally (no server needed); prints file:line:col for every problem')
    .option('--json', 'print machine-readable JSON')
    .action(async (file: string, options: { json?: boolean }) => {
      const source = await readSource(file, context);
      if (source === undefined) return;
      const { checkJobDefinition } = await import('@myrmex/orchestrator');
      const result = checkJobDefinition(source, { fileName: file });
      if (result.ok) {
        const { jobType, tasks } = result.definition;
        if (options.json) io.out(JSON.stringify({ valid: true, file, job_type: jobType, tasks: tasks.map((task) => task.taskType) }));
        else io.out(`${file}: valid job definition '${jobType}' with ${tasks.length} task${tasks.length === 1 ? '' : 's'}`);
        return;
      }
      if (options.json) io.out(JSON.stringify({ valid: false, file, errors: result.errors }));
      else for (const error of result.errors) io.err(`${error.file}:${error.line}:${error.column}: ${error.message}`);
      context.fail(1);
    });

  withServerOptions(program.command('apply <file>'))
    .description('send a job definition (YAML or JSON) to the queen; a changed definition becomes a new version')
    .action(async (file: string, options: ServerOptions) => {
      const client = clientFor(options, context);
      const source = await readSource(file, context);
      if (source === undefined) return;
      const mediaType = extname(file).toLowerCase() === '.json' ? 'application/json' : 'application/yaml';
      await runAction(context, options.json, async () => {
        const result = await client.apply(source, file, mediaType);
        if (options.json) io.out(JSON.stringify(result));
        else
          io.out(
            `${result.job_type}: ${result.created ? `version ${result.version} created` : `unchanged, still version ${result.version}`}`,
          );
      });
    });
}

import { writeFile } from 'node:fs/promises';
import { blankPostMortem, fetchJob, JobFetchError, postMortemFromJob, render } from '@myrmex/postmortem';
import type { Command } from 'commander';
import { type CliContext, UsageError } from '../../context.js';
import { nowUtc } from './shared.js';

interface NewOptions {
  readonly title?: string;
  readonly fromJob?: string;
  readonly server?: string;
  readonly out?: string;
  readonly force?: boolean;
}

export function registerNew(family: Command, context: CliContext): void {
  const { io, env, fail } = context;
  family
    .command('new')
    .description(
      "write a post-mortem template; with --from-job, fill timeline, durations and failing tasks from an orchestrator job's event log",
    )
    .option('--title <title>', 'the title: the customer-facing problem')
    .option('--from-job <id>', 'the orchestrator job the incident is about')
    .option('--server <url>', 'the orchestrator API (default: $MYRMEX_SERVER)')
    .option('--out <file>', 'write to this file instead of standard output')
    .option('--force', 'overwrite --out if it exists')
    .action(async (options: NewOptions) => {
      const server = options.server ?? env.MYRMEX_SERVER;
      if (options.fromJob !== undefined && !server) throw new UsageError('--from-job needs --server <url> (or MYRMEX_SERVER)');
      if (options.fromJob === undefined && options.server !== undefined) throw new UsageError('--server is only used with --from-job <id>');
      const now = nowUtc();
      let doc = blankPostMortem({ now, ...(options.title ? { title: options.title } : {}) });
      if (options.fromJob !== undefined && server) {
        try {
          doc = postMortemFromJob(await fetchJob(server, options.fromJob), now, options.title);
        } catch (error) {
          if (!(error instanceof JobFetchError)) throw error;
          io.err(`myrmex: ${error.message}`);
          fail(1);
          return;
        }
      }
      const text = render(doc);
      if (options.out === undefined) {
        io.out(text);
        return;
      }
      try {
        await writeFile(options.out, text, { flag: options.force ? 'w' : 'wx' });
      } catch (error) {
        const exists = (error as NodeJS.ErrnoException).code === 'EEXIST';
        io.err(
          `myrmex: ${exists ? `${options.out} exists; pass --force to overwrite it` : `cannot write ${options.out}: ${(error as Error).message}`}`,
        );
        fail(1);
        return;
      }
      io.err(`wrote ${options.out}`);
    });
}

import type { Command } from 'commander';
import type { CliContext } from '../../context.js';
import { clientFor, runAction, type ServerOptions, withServerOptions } from './common.js';
import { formatJobLine } from './format.js';

interface DeadLetterOptions extends ServerOptions {
  readonly limit?: string;
  readonly before?: string;
}

const positive = (value: string | undefined, name: string): number | undefined => {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got '${value}'`);
  return n;
};

/** `myrmex dead-letters` and `myrmex redrive <job>`: jobs whose retries are used up, and running one again. */
export function registerDeadLetterCommands(program: Command, context: CliContext): void {
  const { io } = context;
  withServerOptions(program.command('dead-letters'))
    .description('list jobs that failed with their retries used up (newest first), and what each was redriven as')
    .option('--limit <n>', 'at most this many (default 50)')
    .option('--before <seq>', "continue an earlier listing (the 'more:' value it printed)")
    .action(async (options: DeadLetterOptions) => {
      const client = clientFor(options, context);
      await runAction(context, options.json, async () => {
        const limit = positive(options.limit, 'limit');
        const before = positive(options.before, 'before');
        const page = await client.deadLetters({ ...(limit === undefined ? {} : { limit }), ...(before === undefined ? {} : { before }) });
        if (options.json) {
          io.out(JSON.stringify(page));
          return;
        }
        if (page.items.length === 0) io.out('no dead letters');
        for (const item of page.items) {
          io.out(`${formatJobLine(item)}${item.redriven_as === undefined ? '' : `  redriven as ${item.redriven_as}`}`);
        }
        if (page.next_before !== undefined) io.out(`more: myrmex dead-letters --before ${page.next_before}`);
      });
    });

  withServerOptions(program.command('redrive <id>'))
    .description("run a dead letter again as a new job (its type's latest version, same params), linked to the original; once per job")
    .action(async (id: string, options: ServerOptions) => {
      const client = clientFor(options, context);
      await runAction(context, options.json, async () => {
        const { original, job } = await client.redrive(id);
        io.out(
          options.json
            ? JSON.stringify({ original, job })
            : `redrove ${original.id} as ${job.id} (${job.job_type} v${job.version}, ${job.state})`,
        );
      });
    });
}

import type { Command } from 'commander';
import type { CliContext } from '../../context.js';
import { formatTable } from '../info.js';
import { clientFor, parseInteger, runAction, type ServerOptions, withServerOptions } from '../orchestrator/common.js';

interface ListOptions extends ServerOptions {
  readonly limit: number;
  readonly offset: number;
}

interface Page<T> {
  readonly items: readonly T[];
  readonly total: number;
  readonly limit: number;
  readonly offset: number;
}

/** One page of a list the API returns whole (definitions and ants are few), shaped like the jobs page. */
function pageOf<T>(items: readonly T[], options: ListOptions): Page<T> {
  return {
    items: items.slice(options.offset, options.offset + options.limit),
    total: items.length,
    limit: options.limit,
    offset: options.offset,
  };
}

function footer(page: Page<unknown>, noun: string): string {
  if (page.total === 0) return `no ${noun}`;
  if (page.items.length === 0) return `no ${noun} at offset ${page.offset} (${page.total} in all)`;
  return page.items.length < page.total
    ? `\n${page.offset + 1}-${page.offset + page.items.length} of ${page.total} (use --offset for more)`
    : '';
}

const paged = (command: Command) =>
  withServerOptions(command)
    .option('--limit <n>', 'at most this many', parseInteger('--limit', 1, 1000), 50)
    .option('--offset <n>', 'skip this many', parseInteger('--offset', 0, Number.MAX_SAFE_INTEGER), 0);

interface ListSpec<T> {
  readonly name: string;
  readonly noun: string;
  readonly description: string;
  readonly path: string;
  readonly header: readonly string[];
  readonly row: (item: T) => string[];
}

function listCommand<T>(program: Command, context: CliContext, spec: ListSpec<T>): void {
  paged(program.command(spec.name))
    .description(spec.description)
    .action(async (options: ListOptions) => {
      const client = clientFor(options, context);
      await runAction(context, options.json, async () => {
        // The health check turns "nothing answers" into the same clear message as every other command.
        await client.health();
        const response = await fetch(`${client.server}/api${spec.path}`);
        if (!response.ok) throw new Error(`${client.server}/api${spec.path} answered ${response.status}`);
        const page = pageOf(((await response.json()) as { items: T[] }).items, options);
        if (options.json) return context.io.out(JSON.stringify(page));
        const table = page.items.length === 0 ? '' : formatTable([[...spec.header], ...page.items.map(spec.row)]);
        context.io.out(table + footer(page, spec.noun));
      });
    });
}

/** `myrmex definitions` and `myrmex ants`: the other lists, paged and with --json like `myrmex jobs`. */
export function registerListCommands(program: Command, context: CliContext): void {
  listCommand<{ job_type: string; version: number; tasks: string[]; disabled: boolean; created_at: string }>(program, context, {
    name: 'definitions',
    noun: 'definitions',
    description: 'list job definitions (the latest version of each type)',
    path: '/jobs/definitions',
    header: ['type', 'version', 'tasks', 'status', 'applied'],
    row: (d) => [d.job_type, `v${d.version}`, String(d.tasks.length), d.disabled ? 'disabled' : 'enabled', d.created_at],
  });
  listCommand<{ id: string; capacity: number; running: number; methods: string[]; tags: string[]; last_seen_at: string }>(
    program,
    context,
    {
      name: 'ants',
      noun: 'ants',
      description: 'list the ants (workers): capacity, running tasks, methods, tags, last heartbeat',
      path: '/ants',
      header: ['id', 'running', 'methods', 'tags', 'last seen'],
      row: (a) => [a.id, `${a.running}/${a.capacity}`, a.methods.join(','), a.tags.join(',') || '-', a.last_seen_at],
    },
  );
}

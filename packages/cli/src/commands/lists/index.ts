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

async function getJson<T>(server: string, path: string): Promise<T> {
  const response = await fetch(`${server}/api${path}`);
  if (!response.ok) throw new Error(`${server}/api${path} answered ${response.status}`);
  return (await response.json()) as T;
}

/** `myrmex definitions` and `myrmex ants`: the other lists, paged and with --json like `myrmex jobs`. */
export function registerListCommands(program: Command, context: CliContext): void {
  const { io } = context;
  paged(program.command('definitions'))
    .description('list job definitions (the latest version of each type)')
    .action(async (options: ListOptions) => {
      const client = clientFor(options, context);
      await runAction(context, options.json, async () => {
        await client.health();
        const all = await getJson<{
          items: { job_type: string; version: number; tasks: string[]; disabled: boolean; created_at: string }[];
        }>(client.server, '/jobs/definitions');
        const page = pageOf(all.items, options);
        if (options.json) return io.out(JSON.stringify(page));
        const rows = page.items.map((d) => [
          d.job_type,
          `v${d.version}`,
          String(d.tasks.length),
          d.disabled ? 'disabled' : 'enabled',
          d.created_at,
        ]);
        io.out(
          page.items.length === 0
            ? footer(page, 'definitions')
            : formatTable([['type', 'version', 'tasks', 'status', 'applied'], ...rows]) + footer(page, 'definitions'),
        );
      });
    });

  paged(program.command('ants'))
    .description('list the ants (workers): capacity, running tasks, methods, tags, last heartbeat')
    .action(async (options: ListOptions) => {
      const client = clientFor(options, context);
      await runAction(context, options.json, async () => {
        await client.health();
        const all = await getJson<{
          items: { id: string; capacity: number; running: number; methods: string[]; tags: string[]; last_seen_at: string }[];
        }>(client.server, '/ants');
        const page = pageOf(all.items, options);
        if (options.json) return io.out(JSON.stringify(page));
        const rows = page.items.map((a) => [
          a.id,
          `${a.running}/${a.capacity}`,
          a.methods.join(','),
          a.tags.join(',') || '-',
          a.last_seen_at,
        ]);
        io.out(
          page.items.length === 0
            ? footer(page, 'ants')
            : formatTable([['id', 'running', 'methods', 'tags', 'last seen'], ...rows]) + footer(page, 'ants'),
        );
      });
    });
}

import type { Command } from 'commander';
import type { CliContext } from '../../context.js';
import { parseInteger, runAction, type ServerOptions, withServerOptions } from '../orchestrator/common.js';
import { securityCall } from '../token/http.js';

/** `myrmex org create`: a platform administrator's command. */
export function registerOrg(program: Command, context: CliContext): void {
  const org = program.command('org').description('organisations (platform administrators)');
  withServerOptions(
    org
      .command('create <id>')
      .description('create an organisation and print its first admin token (once)')
      .requiredOption('--name <name>', 'display name')
      .option('--max-jobs <n>', 'quota: unfinished jobs at once', parseInteger('--max-jobs', 0, 1_000_000))
      .option('--max-queued <n>', 'quota: queued jobs at once', parseInteger('--max-queued', 0, 1_000_000))
      .option('--max-submits-per-minute <n>', 'quota: jobs submitted in any 60 s', parseInteger('--max-submits-per-minute', 0, 1_000_000)),
  ).action(
    async (id: string, options: ServerOptions & { name: string; maxJobs?: number; maxQueued?: number; maxSubmitsPerMinute?: number }) =>
      runAction(context, options.json, async () => {
        const created = await securityCall<{ id: string; token: string }>(options, context, 'POST', '/orgs', {
          id,
          name: options.name,
          ...(options.maxJobs === undefined ? {} : { max_jobs: options.maxJobs }),
          ...(options.maxQueued === undefined ? {} : { max_queued: options.maxQueued }),
          ...(options.maxSubmitsPerMinute === undefined ? {} : { max_submits_per_minute: options.maxSubmitsPerMinute }),
        });
        context.io.out(options.json ? JSON.stringify(created) : `${created.token}\n(admin token of ${created.id}; shown once)`);
      }),
  );
}

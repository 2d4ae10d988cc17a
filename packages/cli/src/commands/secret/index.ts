import type { Command } from 'commander';
import { type CliContext, UsageError } from '../../context.js';
import { printable } from '../../terminal.js';
import { runAction, type ServerOptions, withServerOptions } from '../orchestrator/common.js';
import { securityCall } from '../token/http.js';

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

type Options = ServerOptions & { jobType?: string };

/** The organisation's secrets, or one job type's own (which override the organisation's for its tasks). */
const base = (options: Options) =>
  options.jobType === undefined ? '/secrets' : `/jobs/definitions/${encodeURIComponent(options.jobType)}/secrets`;
const scope = (options: Options) => (options.jobType === undefined ? 'the organisation' : `job type ${printable(options.jobType)}`);

function checkName(name: string): string {
  if (!NAME.test(name)) throw new UsageError(`secret name '${printable(name)}' must be letters, digits and _, not starting with a digit`);
  return name;
}

/**
 * `myrmex secret set|list|delete [--job-type T]`: secrets are written and named, never read back. The
 * value comes from an environment variable (`--from-env`), so it stays out of the shell's history and
 * the process list.
 */
export function registerSecret(program: Command, context: CliContext): void {
  const secret = program.command('secret').description("your organisation's and job types' secrets (values are never shown)");
  const jobType = (command: Command) => command.option('--job-type <type>', "a job type's own secret, overriding the organisation's");
  withServerOptions(
    jobType(secret.command('set <name>').description('create or replace a secret')).requiredOption(
      '--from-env <variable>',
      'the environment variable holding the value',
    ),
  ).action(async (name: string, options: Options & { fromEnv: string }) =>
    runAction(context, options.json, async () => {
      checkName(name);
      const value = context.env[options.fromEnv];
      if (value === undefined || value === '') throw new UsageError(`--from-env: the environment variable ${options.fromEnv} is not set`);
      await securityCall(options, context, 'PUT', `${base(options)}/${name}`, { value });
      context.io.out(options.json ? JSON.stringify({ name, stored: true }) : `stored secret ${name} of ${scope(options)}`);
    }),
  );
  withServerOptions(jobType(secret.command('list').description('secret names with when each was last set'))).action(
    async (options: Options) =>
      runAction(context, options.json, async () => {
        const { items } = await securityCall<{ items: { name: string; updated_at: string }[] }>(options, context, 'GET', base(options));
        if (options.json) return context.io.out(JSON.stringify(items));
        for (const item of items) context.io.out(`${printable(item.name)}  ${item.updated_at}`);
      }),
  );
  withServerOptions(jobType(secret.command('delete <name>').description('delete a secret'))).action(
    async (name: string, options: Options) =>
      runAction(context, options.json, async () => {
        await securityCall(options, context, 'DELETE', `${base(options)}/${checkName(name)}`);
        context.io.out(options.json ? JSON.stringify({ name, deleted: true }) : `deleted secret ${name} of ${scope(options)}`);
      }),
  );
}

import type { Command } from 'commander';
import { type CliContext, UsageError } from '../../context.js';
import { printable } from '../../terminal.js';
import { runAction, type ServerOptions, withServerOptions } from '../orchestrator/common.js';
import { securityCall } from '../token/http.js';

const RESOURCES = ['running_jobs', 'cpu_hours', 'artifact_bytes'];
const PERIODS = ['daily', 'monthly'];

interface SubmissionQuota {
  org: string;
  max_jobs?: number;
  max_queued?: number;
  max_submits_per_minute?: number;
}

interface QuotaWire {
  resource: string;
  user?: string;
  hard?: number;
  soft?: number;
  period?: string;
  used: number;
  period_end?: string;
}

function parseBound(name: string): (value: string) => number | null {
  return (value) => {
    if (value === 'none') return null;
    const number = Number(value);
    if (value.trim() === '' || !Number.isFinite(number) || number < 0)
      throw new UsageError(`${name} must be a number of 0 or more, or 'none', got '${value}'`);
    return number;
  };
}

function oneOf(name: string, allowed: readonly string[]): (value: string) => string {
  return (value) => {
    if (!allowed.includes(value)) throw new UsageError(`${name} must be one of ${allowed.join(', ')}, got '${value}'`);
    return value;
  };
}

/** One limit as a line: who, what and per which period, then usage against the bounds. */
export function quotaLine(quota: QuotaWire): string {
  const who = quota.user === undefined ? 'org' : `user ${printable(quota.user)}`;
  const per = quota.period === undefined ? '' : quota.period === 'daily' ? ' per day' : ' per month';
  const used = quota.resource === 'cpu_hours' ? Number(quota.used.toPrecision(3)) : quota.used;
  const bounds = [`hard ${quota.hard ?? 'none'}`, `soft ${quota.soft ?? 'none'}`].join(', ');
  const resets = quota.period_end === undefined ? '' : ` (resets ${quota.period_end})`;
  return `${who} ${quota.resource}${per}: ${used} used; ${bounds}${resets}`;
}

/**
 * `myrmex quota`: the organisation's submission limits and its running-jobs, CPU-hours and artifact
 * storage quotas with their usage; `myrmex quota set` changes one (an admin token).
 */
export function registerQuota(program: Command, context: CliContext): void {
  const show = async (options: ServerOptions) =>
    runAction(context, options.json, async () => {
      const submission = await securityCall<SubmissionQuota>(options, context, 'GET', '/quota');
      const { items } = await securityCall<{ items: QuotaWire[] }>(options, context, 'GET', '/quotas');
      if (options.json) return context.io.out(JSON.stringify({ ...submission, quotas: items }));
      context.io.out(
        `${printable(submission.org)}: unfinished jobs ${submission.max_jobs ?? 'unlimited'}, queued jobs ${submission.max_queued ?? 'unlimited'}, ` +
          `submissions per minute ${submission.max_submits_per_minute ?? 'unlimited'}`,
      );
      for (const quota of items) context.io.out(quotaLine(quota));
    });
  const quota = withServerOptions(program.command('quota').description("your organisation's quotas and what they have used")).action(show);
  // `quota` takes --server and --json too, so commander gives them to it wherever they are written: read both.
  withServerOptions(quota.command('show').description('the quotas with their usage (the same as `myrmex quota`)')).action(
    (_options: ServerOptions, command: Command) => show(command.optsWithGlobals<ServerOptions>()),
  );
  withServerOptions(
    quota
      .command('set <resource>')
      .description(`set a quota (${RESOURCES.join(', ')}); 'none' for both bounds removes it`)
      .option('--hard <n>', "above it nothing more is admitted or stored ('none' to clear)", parseBound('--hard'))
      .option('--soft <n>', "above it work is admitted with a warning ('none' to clear)", parseBound('--soft'))
      .option('--period <period>', `when a cumulative quota resets: ${PERIODS.join(', ')}`, oneOf('--period', PERIODS))
      .option('--user <id>', "a member's own quota instead of the organisation's"),
  ).action(async (resource: string, _options: unknown, command: Command) => {
    const options = command.optsWithGlobals<
      ServerOptions & { hard?: number | null; soft?: number | null; period?: string; user?: string }
    >();
    return runAction(context, options.json, async () => {
      oneOf('resource', RESOURCES)(resource);
      const set = await securityCall<QuotaWire>(options, context, 'PUT', '/quotas', {
        resource,
        ...(options.hard === undefined ? {} : { hard: options.hard }),
        ...(options.soft === undefined ? {} : { soft: options.soft }),
        ...(options.period === undefined ? {} : { period: options.period }),
        ...(options.user === undefined ? {} : { user: options.user }),
      });
      context.io.out(options.json ? JSON.stringify(set) : quotaLine(set));
    });
  });
}

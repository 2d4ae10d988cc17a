import type { Command } from 'commander';
import { type CliContext, processIo } from '../../context.js';
import type { SubmitInput } from './client.js';
import { clientFor, collectParam, parseInstant, parseInteger, runAction, type ServerOptions, withServerOptions } from './common.js';
import { formatJobDetail, formatJobLine, formatJobs, formatWait } from './format.js';
import { waitForJob } from './wait.js';

interface SubmitOptions extends ServerOptions {
  readonly param?: Record<string, unknown>;
  readonly priority?: number;
  readonly scheduledAt?: string;
  readonly wait?: boolean;
  readonly idempotencyKey?: string;
}

interface JobsOptions extends ServerOptions {
  readonly state?: string;
  readonly type?: string;
  readonly limit?: number;
  readonly offset?: number;
  readonly cursor?: string;
  readonly text?: string;
  readonly after?: string;
  readonly before?: string;
  readonly count?: boolean;
}

export function registerRequestCommands(program: Command, context: CliContext): void {
  const { io } = context;

  withServerOptions(program.command('submit <job_type>'))
    .description('submit a job request; with --wait, show live per-task progress and exit 1 unless it completes')
    .option('-p, --param <key=value>', 'a request parameter (repeatable); key:=json for a typed value', collectParam)
    .option('--priority <n>', "priority 0-100 (default: the definition's)", parseInteger('--priority', 0, 100))
    .option('--scheduled-at <iso>', 'do not start before this ISO 8601 date-time', parseInstant)
    .option('--idempotency-key <key>', 'submitting again with the same key never creates a second job (default: a fresh key per run)')
    .option('--wait', 'follow the job until it ends')
    .action(async (jobType: string, options: SubmitOptions) => {
      const client = clientFor(options, context);
      const input: SubmitInput = {
        job_type: jobType,
        params: options.param ?? {},
        ...(options.priority === undefined ? {} : { priority: options.priority }),
        ...(options.scheduledAt === undefined ? {} : { scheduled_at: options.scheduledAt }),
      };
      await runAction(context, options.json, async () => {
        const job = await client.submit(input, options.idempotencyKey);
        if (!options.wait) {
          io.out(options.json ? JSON.stringify(job) : `submitted ${formatJobLine(job)}`);
          return;
        }
        if (!options.json) io.out(`submitted ${formatJobLine(job)}`);
        const live = io === processIo && process.stdout.isTTY === true;
        const final = await waitForJob(client, job.id, options.json ? { live: false } : { show: (text) => io.out(text), live });
        io.out(options.json ? JSON.stringify(final) : `\n${formatJobDetail(final, { timeline: false })}`);
        if (final.state !== 'COMPLETED') context.fail(1);
      });
    });

  withServerOptions(program.command('status <id>'))
    .description('show a job: its tasks, attempts, exit codes, outputs and timeline')
    .action(async (id: string, options: ServerOptions) => {
      const client = clientFor(options, context);
      await runAction(context, options.json, async () => {
        const job = await client.job(id);
        // A waiting job says why and when it should start; a queen without the route is simply not asked again.
        const waiting = job.state === 'PENDING' || job.state === 'READY' ? await client.scheduling(id).catch(() => undefined) : undefined;
        const scheduling = waiting?.waiting ? waiting : undefined;
        if (options.json) io.out(JSON.stringify(scheduling ? { ...job, scheduling } : job));
        else io.out(scheduling ? `${formatJobDetail(job)}\n${formatWait(scheduling)}` : formatJobDetail(job));
      });
    });

  withServerOptions(program.command('cancel <id>'))
    .description('cancel a job: running tasks are killed and nothing new starts')
    .action(async (id: string, options: ServerOptions) => {
      const client = clientFor(options, context);
      await runAction(context, options.json, async () => {
        const job = await client.cancel(id);
        io.out(options.json ? JSON.stringify(job) : `cancelled ${formatJobLine(job)}`);
      });
    });

  withServerOptions(program.command('pause <id>'))
    .description('pause a READY or EXECUTING job: running tasks finish, nothing new starts until resume')
    .option('--reason <text>', 'why, kept in the timeline')
    .action(async (id: string, options: ServerOptions & { reason?: string }) => {
      const client = clientFor(options, context);
      await runAction(context, options.json, async () => {
        const job = await client.pause(id, options.reason);
        io.out(options.json ? JSON.stringify(job) : `paused ${formatJobLine(job)}`);
      });
    });

  withServerOptions(program.command('resume <id>'))
    .description('resume a PAUSED job: its tasks start again')
    .action(async (id: string, options: ServerOptions) => {
      const client = clientFor(options, context);
      await runAction(context, options.json, async () => {
        const job = await client.resume(id);
        io.out(options.json ? JSON.stringify(job) : `resumed ${formatJobLine(job)}`);
      });
    });

  withServerOptions(program.command('restart <id>'))
    .description('restart a FAILED or CANCELLED job: failed, cancelled and skipped tasks run again')
    .option('--hard', 'run every task again, completed ones too')
    .action(async (id: string, options: ServerOptions & { hard?: boolean }) => {
      const client = clientFor(options, context);
      await runAction(context, options.json, async () => {
        const job = await client.restart(id, options.hard === true);
        io.out(options.json ? JSON.stringify(job) : `restarted ${formatJobLine(job)}`);
      });
    });

  withServerOptions(program.command('jobs'))
    .description('list job requests, newest first')
    .option('--state <state>', 'only jobs in this state (PENDING, READY, EXECUTING, COMPLETED, FAILED, CANCELLED, PAUSED)')
    .option('--type <job_type>', 'only jobs of this type')
    .option('--limit <n>', 'at most this many (default 50)', parseInteger('--limit', 1, 1000))
    .option('--offset <n>', 'skip this many', parseInteger('--offset', 0, Number.MAX_SAFE_INTEGER))
    .option('--cursor <cursor>', 'continue after a previous page (its next_cursor, printed under the table)')
    .option('--text <text>', 'only jobs whose id starts with this text or whose type is exactly this text')
    .option('--after <time>', 'only jobs submitted at or after this RFC 3339 time')
    .option('--before <time>', 'only jobs submitted before this RFC 3339 time')
    .option('--count', 'also count every matching job (reads them all on the server)')
    .action(async (options: JobsOptions) => {
      const client = clientFor(options, context);
      await runAction(context, options.json, async () => {
        const page = await client.jobs({
          ...(options.state === undefined ? {} : { state: options.state.toUpperCase() }),
          ...(options.type === undefined ? {} : { jobType: options.type }),
          ...(options.limit === undefined ? {} : { limit: options.limit }),
          ...(options.offset === undefined ? {} : { offset: options.offset }),
          ...(options.cursor === undefined ? {} : { cursor: options.cursor }),
          ...(options.text === undefined ? {} : { text: options.text }),
          ...(options.after === undefined ? {} : { submittedAfter: options.after }),
          ...(options.before === undefined ? {} : { submittedBefore: options.before }),
          ...(options.count === true ? { count: true } : {}),
        });
        io.out(options.json ? JSON.stringify(page) : formatJobs(page));
      });
    });
}

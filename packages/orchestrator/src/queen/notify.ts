import nodemailer from 'nodemailer';
import type { JobDefinition, NotifySpec, TaskDefinition, WebhookSpec } from '../definition/model.js';
import { renderTemplate, renderValue, type TemplateScope } from '../definition/template.js';
import type { JobRow, TaskRow } from '../store/store.js';
import type { NewNotification, NotificationChannel, NotificationRow } from '../store/workflow-events.js';

/** Where notifications go out (issue 14). Without a transport for a channel its rows fail with that reason. */
export interface NotifyOptions {
  /** nodemailer's SMTP transport: a URL (`smtp://user:pass@host:587`) or its options object. */
  readonly smtp?: string | Record<string, unknown>;
  /** The From of e-mails (default `myrmex@localhost`). */
  readonly from?: string;
  /** A Slack incoming-webhook URL: slack recipients are channels posted to through it. */
  readonly slackWebhookUrl?: string;
  /** Sends per notification before it is given up (default 5). */
  readonly maxAttempts?: number;
  /** First retry delay; doubles per attempt with full jitter, capped at 5 minutes (default 1 s). */
  readonly retryBaseMs?: number;
  /** A webhook or Slack POST that takes longer fails (default 10 s). */
  readonly timeoutMs?: number;
}

/** Formicary's `when`; absent means always (Formicary's documentation gives no default: we notify rather than stay silent). */
function wanted(when: string | undefined, state: string): boolean {
  switch (when ?? 'always') {
    case 'always':
      return true;
    case 'onSuccess':
    case 'on_success':
      return state === 'COMPLETED';
    case 'onFailure':
    case 'on_failure':
      return state === 'FAILED';
    default:
      // never, none
      return false;
  }
}

const recipientsOf = (value: string | readonly string[]): string[] =>
  (typeof value === 'string' ? value.split(',') : [...value]).map((r) => r.trim()).filter(Boolean);

/** The template scope of a job's end: its params, job variables and built-ins (no task is running). */
export function jobEndScope(job: JobRow, definition: JobDefinition): TemplateScope {
  return {
    params: job.params,
    taskVariables: {},
    jobVariables: definition.jobVariables,
    outputs: {},
    builtIns: { JobID: job.id, JobType: job.jobType, JobRetry: job.retry, TaskType: '', TaskRetry: 0 },
  };
}

/** What ended, as its notifications see it: a job, or one task of it. */
interface Ending {
  readonly jobId: string;
  readonly state: string;
  readonly notify: NotifySpec | undefined;
  readonly webhook: WebhookSpec | undefined;
  readonly scope: TemplateScope;
  readonly payload: Readonly<Record<string, unknown>>;
  /** A task's rows are keyed under its name, so a job's and a task's message to one address are two rows. */
  readonly task?: string;
}

function endingNotifications(ending: Ending): NewNotification[] {
  const { scope, notify } = ending;
  const rows: NewNotification[] = [];
  const add = (channel: NotificationChannel, to: string, payload: Readonly<Record<string, unknown>>) => {
    const recipient = ending.task === undefined ? to : `${ending.task}: ${to}`;
    if (!rows.some((r) => r.channel === channel && r.recipient === recipient)) {
      rows.push({ jobId: ending.jobId, channel, recipient, payload: { ...payload, to } });
    }
  };
  const except = notify?.except;
  const excepted = except === true || (typeof except === 'string' && renderTemplate(except, scope).trim() === 'true') || except === 'true';
  if (notify !== undefined && !excepted) {
    for (const channel of ['email', 'slack', 'webhook'] as const) {
      const spec = notify[channel];
      if (spec === undefined || !wanted(spec.when, ending.state)) continue;
      for (const recipient of recipientsOf(spec.recipients)) add(channel, renderTemplate(recipient, scope), ending.payload);
    }
  }
  if (ending.webhook !== undefined) {
    const hook = renderValue(ending.webhook, scope) as {
      url: string;
      headers?: Record<string, unknown>;
      query?: Record<string, unknown>;
    };
    const url = new URL(hook.url);
    for (const [key, value] of Object.entries(hook.query ?? {})) url.searchParams.set(key, String(value));
    const headers = Object.fromEntries(Object.entries(hook.headers ?? {}).map(([key, value]) => [key, String(value)]));
    add('webhook', url.toString(), { ...ending.payload, headers });
  }
  return rows;
}

const jobPayload = (job: JobRow) => ({
  job_id: job.id,
  job_type: job.jobType,
  version: job.version,
  state: job.state,
  ...(job.reason === undefined ? {} : { reason: job.reason }),
  params: job.params,
  ...(job.endedAt === undefined ? {} : { ended_at: job.endedAt.toISOString() }),
});

/**
 * The notifications a job's end asks for: `notify` channels whose `when` matches the end state
 * (unless `notify.except` renders to true), and the job-level `webhook` (always, Formicary's). Values
 * are rendered with the job's params; a template that cannot be rendered throws (TemplateError).
 */
export function notificationsFor(job: JobRow, definition: JobDefinition): NewNotification[] {
  return endingNotifications({
    jobId: job.id,
    state: job.state,
    notify: definition.notify,
    webhook: definition.webhook,
    scope: jobEndScope(job, definition),
    payload: jobPayload(job),
  });
}

/** The same for one task's end (its own `notify` and `webhook`), rendered with its variables too. */
export function taskNotificationsFor(job: JobRow, definition: JobDefinition, task: TaskDefinition, row: TaskRow): NewNotification[] {
  if (task.notify === undefined && task.webhook === undefined) return [];
  const scope = jobEndScope(job, definition);
  return endingNotifications({
    jobId: job.id,
    state: row.state,
    notify: task.notify,
    webhook: task.webhook,
    scope: { ...scope, taskVariables: task.variables, builtIns: { ...scope.builtIns, TaskType: task.taskType, TaskRetry: row.attempt } },
    payload: {
      ...jobPayload(job),
      task_type: task.taskType,
      task_state: row.state,
      ...(row.exitCode === undefined ? {} : { exit_code: row.exitCode }),
      ...(row.reason === undefined ? {} : { task_reason: row.reason }),
    },
    task: task.taskType,
  });
}

/** Where a row goes: the address it was filed for (a task's rows are keyed under the task's name). */
const addressOf = (row: NotificationRow): string => (typeof row.payload.to === 'string' ? row.payload.to : row.recipient);

export type Sender = (row: NotificationRow) => Promise<void>;

/** One sender per channel, from the options; a channel without a transport throws saying how to configure it. */
export function notificationSenders(options: NotifyOptions): Record<NotificationChannel, Sender> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const post = async (url: string, body: unknown, headers: Record<string, string> = {}): Promise<void> => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'myrmex-notify', ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`${url} answered ${response.status} ${response.statusText}`);
  };
  const mailer = options.smtp === undefined ? undefined : nodemailer.createTransport(options.smtp as never);
  return {
    webhook: async (row) => {
      const { headers, to: _to, ...body } = row.payload as { headers?: Record<string, string>; to?: string };
      await post(addressOf(row), body, headers);
    },
    slack: async (row) => {
      if (options.slackWebhookUrl === undefined) {
        throw new Error('no Slack transport: set the queen notify.slackWebhookUrl (MYRMEX_SLACK_WEBHOOK_URL)');
      }
      await post(options.slackWebhookUrl, { channel: addressOf(row), text: summaryLine(row.payload) });
    },
    email: async (row) => {
      if (mailer === undefined) throw new Error('no SMTP transport: set the queen notify.smtp (MYRMEX_SMTP_URL)');
      await mailer.sendMail({
        from: options.from ?? 'myrmex@localhost',
        to: addressOf(row),
        subject: summaryLine(row.payload),
        text: `${JSON.stringify(row.payload, null, 2)}\n`,
      });
    },
  };
}

export function summaryLine(payload: Readonly<Record<string, unknown>>): string {
  const job = `job ${String(payload.job_type)} ${String(payload.job_id)}`;
  if (typeof payload.task_type === 'string') {
    const reason = typeof payload.task_reason === 'string' ? `: ${payload.task_reason}` : '';
    return `Myrmex task ${payload.task_type} of ${job} ${String(payload.task_state)}${reason}`;
  }
  const reason = typeof payload.reason === 'string' ? `: ${payload.reason}` : '';
  return `Myrmex ${job} ${String(payload.state)}${reason}`;
}

/** MYRMEX_SMTP_URL, MYRMEX_SMTP_FROM and MYRMEX_SLACK_WEBHOOK_URL; undefined when none is set. */
export function notifyOptionsFromEnv(env: NodeJS.ProcessEnv): NotifyOptions | undefined {
  const options: NotifyOptions = {
    ...(env.MYRMEX_SMTP_URL ? { smtp: env.MYRMEX_SMTP_URL } : {}),
    ...(env.MYRMEX_SMTP_FROM ? { from: env.MYRMEX_SMTP_FROM } : {}),
    ...(env.MYRMEX_SLACK_WEBHOOK_URL ? { slackWebhookUrl: env.MYRMEX_SLACK_WEBHOOK_URL } : {}),
  };
  return Object.keys(options).length === 0 ? undefined : options;
}

import type { JobDetailWire, JobPageWire, JobSummaryWire, LogLineWire, ProblemWire } from '@myrmex/orchestrator';
import { printable } from '../../terminal.js';
import { formatTable } from '../info.js';
import type { WaitStatusWire } from './client.js';

/** Human-readable renderings; every command prints JSON instead under --json. */

const time = (iso: string | undefined): string => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-');

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes}m${Math.round((ms % 60_000) / 1000)}s`;
}

function elapsed(from: string | undefined, to: string | undefined): string {
  if (!from || !to) return '-';
  return formatDuration(Date.parse(to) - Date.parse(from));
}

export function formatJobLine(job: JobSummaryWire): string {
  return `${job.id} ${job.job_type} v${job.version} ${job.state}${job.reason ? ` (${job.reason})` : ''}`;
}

/** A page of jobs; its footer says where the next page starts (and the total, when it was counted). */
export function formatJobs(page: JobPageWire): string {
  const { items: jobs, total, offset } = page;
  const more = page.next_cursor === undefined ? '' : `more: --cursor ${page.next_cursor}`;
  if (jobs.length === 0) return offset > 0 ? `no jobs at offset ${offset}${total === undefined ? '' : ` (${total} in all)`}` : 'no jobs';
  const rows = jobs.map((job) => [
    job.id,
    job.job_type,
    `v${job.version}`,
    job.state,
    String(job.priority),
    time(job.submitted_at),
    time(job.ended_at),
  ]);
  const table = formatTable([['id', 'type', 'version', 'state', 'priority', 'submitted', 'ended'], ...rows]);
  const counted = total === undefined ? '' : ` of ${total}`;
  const footer =
    more === '' && total === undefined ? '' : `\n${offset + 1}-${offset + jobs.length}${counted}${more === '' ? '' : ` (${more})`}`;
  return table + footer;
}

/** The whole job; `timeline: false` leaves out the transitions (`submit --wait` has just shown them). */
/** Why a job waits: "waiting: queued: 3 jobs ahead; estimated start 12:00:05 (held by queue)". */
export function formatWait(status: WaitStatusWire): string {
  const when = status.estimated_start_at ? `; estimated start ${time(status.estimated_start_at)}` : '';
  const by = status.held_by ? ` (held by ${status.held_by})` : '';
  return `  waiting: ${status.reason ?? 'in the queue'}${when}${by}`;
}

export function formatJobDetail(job: JobDetailWire, options: { timeline?: boolean } = {}): string {
  const lines = [
    `job ${job.id}: ${job.job_type} v${job.version} ${job.state}${job.reason ? ` (${job.reason})` : ''}`,
    `  priority ${job.priority}, submitted ${time(job.submitted_at)}, started ${time(job.started_at)}, ended ${time(job.ended_at)}, took ${elapsed(job.started_at, job.ended_at)}${job.retry > 0 ? `, job retry ${job.retry}` : ''}`,
  ];
  if (Object.keys(job.params).length > 0) lines.push(`  params ${JSON.stringify(job.params)}`);
  if (job.tasks.length > 0) {
    const rows = job.tasks.map((task) => [
      task.task_type,
      task.state,
      task.exit_code === undefined ? '-' : String(task.exit_code),
      String(task.attempts.length),
      Object.entries(task.outputs)
        .map(([key, value]) => printable(`${key}=${value.length > 40 ? `${value.slice(0, 37)}...` : value}`))
        .join(' '),
      printable(task.reason ?? ''),
    ]);
    lines.push('', formatTable([['task', 'state', 'exit', 'attempts', 'outputs', 'reason'], ...rows]));
  }
  if (options.timeline !== false && job.timeline.length > 0) {
    lines.push('', 'timeline:');
    for (const event of job.timeline) {
      const subject = event.task_type ?? 'job';
      lines.push(`  ${event.at.slice(11, 23)} ${subject} ${event.from ?? '-'} -> ${event.to}${event.reason ? ` (${event.reason})` : ''}`);
    }
  }
  return lines.join('\n');
}

export function formatLogLine(line: LogLineWire): string {
  return `${line.at.slice(11, 23)} ${line.task_type}#${line.attempt} ${line.stream === 'stdout' ? '' : `[${line.stream}] `}${printable(line.text)}`;
}

/** A problem as the lines a person needs: what went wrong, then each field or position. */
export function formatProblem(problem: ProblemWire): string {
  const lines = [`${problem.title}: ${problem.detail.split('\n')[0]}`];
  for (const error of problem.errors ?? []) {
    // Positions read like `myrmex validate` prints them: `file:line:col: path: message`.
    const path = error.field === 'body' ? '' : `${error.field}: `;
    lines.push(error.location ? `  ${error.location}: ${path}${error.message}` : `  ${error.in} field ${error.field}: ${error.message}`);
  }
  return lines.join('\n');
}

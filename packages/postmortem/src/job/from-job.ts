import type { PostMortem, TimelineEntry } from '../model/schema.js';
import { blankPostMortem } from '../template/blank.js';
import type { Job, JobTask } from './wire.js';

const FAILED = new Set(['FAILED', 'CANCELLED']);

/** "1 h 02 min 05 s", "3 min 10 s", "12 s". */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h} h ${String(m).padStart(2, '0')} min ${String(s).padStart(2, '0')} s`;
  return m > 0 ? `${m} min ${s} s` : `${s} s`;
}

const utc = (iso: string) => new Date(iso).toISOString().replace('.000Z', 'Z');
const between = (from?: string, to?: string) => (from && to ? Date.parse(to) - Date.parse(from) : undefined);

/** How long a task ran: its first attempt's start to its last attempt's end, else its span in the event log. */
export function taskDuration(job: Job, task: JobTask): number | undefined {
  const first = task.attempts[0]?.startedAt;
  const last = task.attempts.at(-1)?.endedAt;
  const fromAttempts = between(first, last);
  if (fromAttempts !== undefined) return fromAttempts;
  const events = job.timeline.filter((e) => e.taskType === task.taskType);
  return between(events[0]?.at, events.at(-1)?.at);
}

export const failingTasks = (job: Job): JobTask[] =>
  job.tasks.filter((t) => FAILED.has(t.state) || (t.exitCode !== undefined && t.exitCode !== 0));

function describeTask(job: Job, task: JobTask): string {
  const facts = [
    task.state,
    task.exitCode === undefined ? undefined : `exit code ${task.exitCode}`,
    `${task.attempts.length} attempt${task.attempts.length === 1 ? '' : 's'}`,
    task.reason,
  ].filter(Boolean);
  const duration = taskDuration(job, task);
  return `${task.taskType} (${facts.join(', ')}${duration === undefined ? '' : `, ran ${formatDuration(duration)}`})`;
}

function timelineEntry(event: Job['timeline'][number]): TimelineEntry {
  const at = utc(event.at);
  const subject = event.taskType ? `task ${event.taskType}` : 'job';
  return {
    date: at.slice(0, 10),
    time: at.slice(11, 19),
    text: `${subject}: ${event.from ?? 'new'} -> ${event.to}${event.reason ? ` (${event.reason})` : ''}`,
    milestone: !event.taskType || FAILED.has(event.to),
  };
}

const cell = (text: string) => text.replace(/\|/g, '\\|');

/**
 * A draft post-mortem for a failed orchestrator job: the timeline is the job's event log, the summary and
 * metrics carry its durations and failing tasks, and the first why starts from the failing task.
 */
export function postMortemFromJob(job: Job, now: string, title?: string): PostMortem {
  const failing = failingTasks(job);
  const doc = blankPostMortem({
    now,
    title: title ?? `{Customer-facing effect} (job ${job.jobType} ${job.id} ${job.state.toLowerCase()})`,
  });
  const firstFailure = job.timeline.find((e) => FAILED.has(e.to))?.at;
  const fm = doc.frontMatter;
  fm.service = job.jobType;
  fm.incident_start = utc(job.submittedAt);
  if (job.startedAt) fm.impact_start = utc(job.startedAt);
  if (firstFailure) fm.detected_at = utc(firstFailure);
  if (job.endedAt) fm.resolved_at = utc(job.endedAt);
  fm.tags = ['orchestrator-job'];
  doc.extraFrontMatter = { job_id: job.id };

  const jobDuration = between(job.startedAt ?? job.submittedAt, job.endedAt);
  const failingText = failing.length === 0 ? 'No task failed.' : `Failing tasks: ${failing.map((t) => describeTask(job, t)).join('; ')}.`;
  doc.summary = [
    `Job ${job.id} (${job.jobType}) was submitted at ${utc(job.submittedAt)} and ended ${job.state}${job.endedAt ? ` at ${utc(job.endedAt)}` : ''}${
      jobDuration === undefined ? '' : ` after ${formatDuration(jobDuration)}`
    }${job.reason ? `: ${job.reason}` : ''}.`,
    failingText,
    doc.summary ?? '',
  ].join(' ');
  doc.timeline = {
    intro: `All times UTC. Generated from the event log of job ${job.id}; add the human decisions (detection, escalation, mitigation) between these entries.`,
    entries: [...job.timeline].sort((a, b) => a.seq - b.seq).map(timelineEntry),
    outro: '',
  };
  const rows = job.tasks.map((task) => {
    const duration = taskDuration(job, task);
    return `| ${cell(task.taskType)} | ${task.state} | ${task.attempts.length} | ${task.exitCode ?? ''} | ${duration === undefined ? '' : formatDuration(duration)} |`;
  });
  doc.metrics = {
    intro: [
      `Task durations from the job's event log:`,
      ['| Task | State | Attempts | Exit code | Duration |', '| --- | --- | ---: | ---: | ---: |', ...rows].join('\n'),
      doc.metrics?.intro ?? '',
    ].join('\n\n'),
    figures: [],
    outro: '',
  };
  const first = failing[0];
  const primary = doc.rootCause?.branches[0];
  if (first && primary) {
    primary.whys = [
      {
        number: '1',
        question: `Why did job ${job.id} end ${job.state}?`,
        answer: `Task ${first.taskType} ended ${first.state}${first.reason ? `: ${first.reason}` : ''}.`,
      },
      { number: '2', question: `Why did task ${first.taskType} fail?`, answer: '{Because ...}' },
    ];
  }
  return doc;
}

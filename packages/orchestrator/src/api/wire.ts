import type {
  AntInfo,
  DefinitionVersion,
  JobDetail,
  JobSummary,
  LogLine,
  TaskAttempt,
  TaskDetail,
  TimelineEvent,
} from '../queen/service.js';

/** Domain objects -> the API's snake_case JSON. Optional fields stay absent rather than null. */

type Wire = Record<string, unknown>;

function optional<T>(key: string, value: T | undefined, map: (value: T) => unknown = (v) => v): Wire {
  return value === undefined ? {} : { [key]: map(value) };
}

const iso = (date: Date): string => date.toISOString();

export function definitionToWire(version: DefinitionVersion): Wire {
  return {
    job_type: version.jobType,
    version: version.version,
    created_at: iso(version.createdAt),
    disabled: version.disabled,
    ...optional('description', version.definition.description),
    tasks: version.definition.tasks.map((task) => task.taskType),
    source: version.source,
  };
}

export function jobSummaryToWire(job: JobSummary): Wire {
  return {
    id: job.id,
    job_type: job.jobType,
    version: job.version,
    state: job.state,
    priority: job.priority,
    params: job.params,
    submitted_at: iso(job.submittedAt),
    scheduled_at: iso(job.scheduledAt),
    ...optional('started_at', job.startedAt, iso),
    ...optional('ended_at', job.endedAt, iso),
    retry: job.retry,
    ...optional('reason', job.reason),
  };
}

function attemptToWire(attempt: TaskAttempt): Wire {
  return {
    attempt: attempt.attempt,
    state: attempt.state,
    ...optional('exit_code', attempt.exitCode),
    started_at: iso(attempt.startedAt),
    ...optional('ended_at', attempt.endedAt, iso),
    ...optional('reason', attempt.reason),
    ...optional('ant_id', attempt.antId),
  };
}

function taskToWire(task: TaskDetail): Wire {
  return {
    task_type: task.taskType,
    state: task.state,
    ...optional('exit_code', task.exitCode),
    outputs: task.outputs,
    attempts: task.attempts.map(attemptToWire),
    ...optional('reason', task.reason),
  };
}

export function timelineEventToWire(event: TimelineEvent): Wire {
  return {
    seq: event.seq,
    job_id: event.jobId,
    ...optional('task_type', event.taskType),
    ...optional('from', event.from),
    to: event.to,
    at: iso(event.at),
    ...optional('reason', event.reason),
  };
}

export function jobDetailToWire(job: JobDetail): Wire {
  return { ...jobSummaryToWire(job), tasks: job.tasks.map(taskToWire), timeline: job.timeline.map(timelineEventToWire) };
}

export function logLineToWire(line: LogLine): Wire {
  return {
    seq: line.seq,
    job_id: line.jobId,
    task_type: line.taskType,
    attempt: line.attempt,
    stream: line.stream,
    at: iso(line.at),
    text: line.text,
  };
}

export function antToWire(ant: AntInfo): Wire {
  return {
    id: ant.id,
    methods: ant.methods,
    tags: ant.tags,
    capacity: ant.capacity,
    running: ant.running,
    last_seen_at: iso(ant.lastSeenAt),
    ...(ant.org !== undefined && { org: ant.org }),
    ...(ant.labels && { labels: ant.labels }),
    ...(ant.resources && { resources: ant.resources }),
    ...(ant.version !== undefined && { version: ant.version }),
    ...(ant.remote !== undefined && { remote: ant.remote }),
    ...(ant.queen !== undefined && { queen: ant.queen }),
    ...(ant.connected !== undefined && { connected: ant.connected }),
    ...(ant.draining !== undefined && { draining: ant.draining }),
    ...(ant.assignments && { assignments: ant.assignments }),
  };
}

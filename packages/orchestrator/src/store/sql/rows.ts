import type { JobDefinition } from '../../definition/model.js';
import type { JobState, TaskState } from '../../domain/states.js';
import type { DefinitionVersion, LogLine, TimelineEvent } from '../../domain/types.js';
import type { AttemptRow, JobRow, JobStop, ReadyTask, TaskRow } from '../store.js';

/** A row as a driver returns it: PostgreSQL hands BIGINT columns back as strings, hence Number(). */
export type Row = Record<string, unknown>;

const optNum = (v: unknown): number | undefined => (v === null || v === undefined ? undefined : Number(v));
const optStr = (v: unknown): string | undefined => (v === null || v === undefined ? undefined : String(v));
const optDate = (v: unknown): Date | undefined => (v === null || v === undefined ? undefined : new Date(Number(v)));

export function toJob(r: Row): JobRow {
  return {
    id: String(r.id),
    jobType: String(r.job_type),
    version: Number(r.version),
    state: r.state as JobState,
    priority: Number(r.priority),
    params: JSON.parse(String(r.params)) as Record<string, unknown>,
    submittedAt: new Date(Number(r.submitted_at)),
    scheduledAt: new Date(Number(r.scheduled_at)),
    startedAt: optDate(r.started_at),
    endedAt: optDate(r.ended_at),
    retry: Number(r.retry),
    reason: optStr(r.reason),
    stop: optStr(r.stop) as JobStop | undefined,
    deadlineAt: optNum(r.deadline_at),
    seq: Number(r.seq),
    revision: Number(r.revision),
    ...(typeof r.org === 'string' && { org: r.org }),
    ...(typeof r.submitted_by === 'string' && { submittedBy: r.submitted_by }),
  };
}

export function toTask(r: Row): TaskRow {
  return {
    jobId: String(r.job_id),
    taskType: String(r.task_type),
    state: r.state as TaskState,
    attempt: Number(r.attempt),
    runAttempts: Number(r.run_attempts),
    exitCode: optNum(r.exit_code),
    reason: optStr(r.reason),
    outputs: JSON.parse(String(r.outputs)) as Record<string, string>,
    route: optStr(r.route),
    fatal: Number(r.fatal) === 1,
    notBefore: optNum(r.not_before),
    endedAt: optDate(r.ended_at),
    kill: optStr(r.kill),
  };
}

export function toAttempt(r: Row): AttemptRow {
  return {
    jobId: String(r.job_id),
    taskType: String(r.task_type),
    attempt: Number(r.attempt),
    state: r.state as TaskState,
    exitCode: optNum(r.exit_code),
    startedAt: new Date(Number(r.started_at)),
    endedAt: optDate(r.ended_at),
    reason: optStr(r.reason),
    antId: optStr(r.ant_id),
    owner: optStr(r.owner),
    leaseUntil: optNum(r.lease_until),
  };
}

export function toEvent(r: Row): TimelineEvent {
  return {
    seq: Number(r.seq),
    jobId: String(r.job_id),
    taskType: optStr(r.task_type),
    from: optStr(r.from_state),
    to: String(r.to_state),
    at: new Date(Number(r.at)),
    reason: optStr(r.reason),
  };
}

export function toLog(r: Row): LogLine {
  return {
    seq: Number(r.seq),
    jobId: String(r.job_id),
    taskType: String(r.task_type),
    attempt: Number(r.attempt),
    stream: r.stream as LogLine['stream'],
    at: new Date(Number(r.at)),
    text: String(r.text),
  };
}

export function toDefinition(r: Row): DefinitionVersion {
  return {
    jobType: String(r.job_type),
    version: Number(r.version),
    definition: JSON.parse(String(r.definition)) as JobDefinition,
    source: String(r.source),
    createdAt: new Date(Number(r.created_at)),
    disabled: Number(r.disabled) === 1,
  };
}

export function toReadyTask(r: Row): ReadyTask {
  return {
    jobId: String(r.job_id),
    taskType: String(r.task_type),
    jobType: String(r.job_type),
    version: Number(r.version),
    priority: Number(r.priority),
    submittedAt: new Date(Number(r.submitted_at)),
    jobSeq: Number(r.seq),
    org: String(r.org),
  };
}

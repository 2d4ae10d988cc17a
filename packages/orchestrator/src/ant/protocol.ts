import type { AttemptResult } from '../domain/types.js';
import { type LogStream, StopRequest, type TaskSpec } from '../executors/executor.js';

/** What an attempt whose ant went away ends with (then the task's retry policy applies). */
export const ANT_LOST = 'ant lost';

/**
 * The queen <-> ant protocol. Every message is plain JSON data (times are epoch ms), so the same
 * messages can travel over a socket or a queue when remote ants arrive; the embedded ant passes
 * them as objects.
 */

export interface AntDescriptor {
  readonly id: string;
  readonly methods: readonly string[];
  readonly tags: readonly string[];
  readonly capacity: number;
}

export interface Assignment {
  /** `jobId/taskType/attempt`: unique per attempt. */
  readonly id: string;
  readonly jobId: string;
  readonly taskType: string;
  readonly attempt: number;
  readonly spec: TaskSpec;
}

export interface ProgressLog {
  readonly stream: LogStream;
  readonly text: string;
  readonly at: number;
}

/** Ant -> queen. */
export type AntMessage =
  | { readonly type: 'register'; readonly ant: AntDescriptor }
  | { readonly type: 'heartbeat'; readonly antId: string; readonly running: number; readonly at: number }
  | {
      readonly type: 'progress';
      readonly antId: string;
      readonly assignmentId: string;
      readonly logs: readonly ProgressLog[];
      readonly pid?: number;
      /** A remote ant's log batch number (from 0 per attempt): the lines are stored once per batch, whichever queen gets them. */
      readonly batch?: number;
    }
  | {
      readonly type: 'result';
      readonly antId: string;
      readonly assignmentId: string;
      readonly result: AttemptResult;
      readonly outputs: Readonly<Record<string, string>>;
    };

/** Queen -> ant. */
export type QueenMessage =
  | { readonly type: 'assign'; readonly assignment: Assignment }
  /** `graceMs`: how long the task may take to stop after it is signalled (a graceful preemption); else the ant's own. */
  | { readonly type: 'cancel'; readonly assignmentId: string; readonly reason: string; readonly graceMs?: number };

/** What a cancel aborts its attempt with: its reason, with the grace it gives when it gives one. */
export function stopReason(cancel: { readonly reason: string; readonly graceMs?: number | undefined }): string | StopRequest {
  return cancel.graceMs === undefined ? cancel.reason : new StopRequest(cancel.reason, cancel.graceMs);
}

export function assignmentId(jobId: string, taskType: string, attempt: number): string {
  return `${jobId}/${taskType}/${attempt}`;
}

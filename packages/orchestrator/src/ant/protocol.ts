import type { AttemptResult } from '../domain/types.js';
import type { LogStream, TaskSpec } from '../executors/executor.js';

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
  | { readonly type: 'cancel'; readonly assignmentId: string; readonly reason: string };

export function assignmentId(jobId: string, taskType: string, attempt: number): string {
  return `${jobId}/${taskType}/${attempt}`;
}

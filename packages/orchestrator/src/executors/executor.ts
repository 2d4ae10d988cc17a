import type { ArtifactFile } from '../artifacts/collect.js';
import type { AttemptResult } from '../domain/types.js';
import type { ContainerTaskSpec } from './container.js';

/** A task with its templates rendered: everything an ant needs, and serialisable for remote ants. */
export interface TaskSpec {
  readonly method: string;
  readonly script: readonly string[];
  readonly environment: Readonly<Record<string, string>>;
  readonly url?: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  readonly body?: unknown;
  readonly timeoutMs?: number;
  /** DOCKER / KUBERNETES: the container the script runs in. */
  readonly container?: ContainerTaskSpec;
  /** MESSAGING: where the request goes and where the worker replies. */
  readonly messaging?: { readonly requestQueue: string; readonly replyQueue?: string };
  /** Files collected from the working directory after the attempt (`artifacts`). */
  readonly artifacts?: ArtifactsRequest;
  /** Files of earlier tasks placed in the working directory before the attempt (`dependencies`). */
  readonly dependencies?: readonly { readonly taskType: string; readonly files: readonly ArtifactFile[] }[];
  /** FORK_JOB / sub_workflow: the child job to submit. */
  readonly fork?: ForkRequest;
  /** AWAIT_FORKED_JOB: the FORK_JOB tasks whose children are awaited. */
  readonly awaitForked?: readonly string[];
  /** `cache`: paths restored before the attempt (when its key was saved) and saved after a success. */
  readonly cache?: CacheRequest;
  /** Keep the attempt's standard output as the artifact `stdout.txt` (`report_stdout`). */
  readonly reportStdout?: boolean;
  /** `fan_out`: the task runs as one child per item, each rendered with its item. */
  readonly fanOut?: FanOutRequest;
}

/**
 * A fan-out as the ant runs it: task children (`tasks`, run by this task's own method on this ant)
 * or job children (`jobs`, forked by FORK_JOB), at most `maxParallel` at once, joined when all have
 * ended. The task succeeds when at least `successThreshold` percent of the children completed.
 */
export interface FanOutRequest {
  /** The variable each child sees its item as; also the prefix of its outputs (`<itemVar>_<index>_<key>`). */
  readonly itemVar: string;
  /** Where the items came from: the variable `source` names, or `items` / `matrix`. */
  readonly source: string;
  /** Each item as text, for log lines. */
  readonly labels: readonly string[];
  readonly maxParallel?: number;
  /** Stop the other children at the first failure; children not yet started are not started. */
  readonly failFast: boolean;
  readonly successThreshold: number;
  readonly tasks?: readonly TaskSpec[];
  readonly jobs?: readonly ForkRequest[];
  /** Task children that completed in an earlier attempt, by index, with their outputs (`status`, `exit_code`, ...): not run again. */
  readonly done?: Readonly<Record<number, Readonly<Record<string, string>>>>;
}

export interface ForkRequest {
  readonly jobType: string;
  /** A definition version number, or a `sem_version` to match; default the latest. */
  readonly version?: string;
  readonly params: Readonly<Record<string, unknown>>;
  /** Wait for the child to end (sub_workflow); otherwise fork it and succeed at once. */
  readonly wait: boolean;
  /** Child outputs copied into the parent's outputs under new names. */
  readonly outputs: readonly { readonly child: string; readonly parent: string }[];
}

export interface ArtifactsRequest {
  readonly paths: readonly string[];
  /** Kept this long after collection; absent means until the job's artifacts are deleted. */
  readonly expiresAfterMs?: number;
  /** Collected after a success (default), a failure, or always. */
  readonly when?: 'always' | 'on_success' | 'on_failure';
}

/**
 * A task's `cache` as the ant runs it. The key is resolved on the ant, in the attempt's directory
 * (`{{checksum "file"}}`, key_paths), before the attempt to restore and after it to save.
 */
export interface CacheRequest {
  readonly key?: string;
  readonly keyPaths?: readonly string[];
  readonly paths: readonly string[];
  /** A saved cache is kept this long. */
  readonly expiresAfterMs: number;
  /** The caches saved for this job type, by resolved key (the most recent ones). */
  readonly saved: Readonly<Record<string, { readonly digest: string; readonly size: number }>>;
}

export type LogStream = 'stdout' | 'stderr' | 'system';

export interface ExecutionContext {
  readonly jobId: string;
  readonly taskType: string;
  readonly attempt: number;
  readonly spec: TaskSpec;
  /** Aborted when the attempt is cancelled (job cancel, job timeout, queen shutdown); the reason says which. */
  readonly signal: AbortSignal;
  /**
   * The attempt's own working directory on the ant, when it has artifacts or dependencies: SHELL
   * runs in it, a container gets its files copied in and its artifact paths copied back out.
   */
  readonly workdir?: string;
  log(stream: LogStream, text: string, at: Date): void;
  output(key: string, value: string): void;
  /** A SHELL attempt reports its process group so a restarted queen can kill what a crash left behind. */
  started(pid: number): void;
}

/** Runs one attempt of one method. Never throws for task failures: they are results. */
export interface Executor {
  readonly method: string;
  execute(context: ExecutionContext): Promise<AttemptResult>;
}

/** Bounds text kept from a task (lines, bodies) so one noisy task cannot fill the store. */
export function bounded(text: string, maxBytes: number): { readonly text: string; readonly truncated: boolean } {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return { text, truncated: false };
  // Decoding a cut buffer may end in half a character; the replacement char is dropped.
  return {
    text: bytes
      .subarray(0, maxBytes)
      .toString('utf8')
      .replace(/\uFFFD$/, ''),
    truncated: true,
  };
}

/**
 * An abort reason that gives the task time to stop cleanly (a graceful preemption): the executor signals it
 * (SIGTERM) and kills it only once `graceMs` is over, instead of after its own kill grace.
 */
export class StopRequest extends Error {
  constructor(
    message: string,
    readonly graceMs: number,
  ) {
    super(message);
  }
}

/** The grace an abort asked for, if it asked for one. */
export function abortGraceMs(signal: AbortSignal): number | undefined {
  return signal.reason instanceof StopRequest ? signal.reason.graceMs : undefined;
}

export function abortReason(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason.message;
  return typeof reason === 'string' ? reason : 'cancelled';
}

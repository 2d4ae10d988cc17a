import type { AttemptResult } from '../domain/types.js';
import type { Executor } from '../executors/executor.js';
import { withTaskFanOut } from '../executors/fan-out.js';
import type { PidLedger } from './pid-ledger.js';
import type { Assignment, ProgressLog } from './protocol.js';

export interface AttemptRunOptions {
  readonly antId: string;
  readonly assignment: Assignment;
  readonly executors: ReadonlyMap<string, Executor>;
  readonly signal: AbortSignal;
  /** Notes the attempt's process groups on this machine, so a later run of the ant can kill what a crash left. */
  readonly ledger: PidLedger;
  readonly log: (line: ProgressLog) => void;
  /** A process group started (SHELL). */
  readonly started?: (pid: number) => void;
}

export interface AttemptOutcome {
  readonly result: AttemptResult;
  readonly outputs: Readonly<Record<string, string>>;
}

/** Runs one assignment on this machine's executors, as every ant does (embedded or remote); never throws. */
export async function runAttempt(options: AttemptRunOptions): Promise<AttemptOutcome> {
  const { assignment, ledger } = options;
  const outputs: Record<string, string> = {};
  const found = options.executors.get(assignment.spec.method);
  if (!found) return { result: { succeeded: false, error: `ant ${options.antId} has no executor for ${assignment.spec.method}` }, outputs };
  const executor = withTaskFanOut(found);
  const pids: number[] = [];
  try {
    const result = await executor.execute({
      jobId: assignment.jobId,
      taskType: assignment.taskType,
      attempt: assignment.attempt,
      spec: assignment.spec,
      signal: options.signal,
      log: (stream, text, at) => options.log({ stream, text, at: at.getTime() }),
      output: (key, value) => {
        outputs[key] = value;
      },
      started: (pid) => {
        pids.push(pid);
        ledger.add(pid);
        options.started?.(pid);
      },
    });
    return { result, outputs };
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return { result: { succeeded: false, error: `executor ${assignment.spec.method} threw: ${why}` }, outputs };
  } finally {
    for (const pid of pids) ledger.remove(pid);
  }
}

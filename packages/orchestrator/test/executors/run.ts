import type { AttemptResult, Executor, LogStream, TaskSpec } from '@myrmex/orchestrator';

export interface Run {
  readonly result: AttemptResult;
  readonly logs: { stream: LogStream; text: string; at: Date }[];
  readonly outputs: Record<string, string>;
  readonly pids: number[];
  readonly ms: number;
}

export function spec(fields: Partial<TaskSpec> & { method: string }): TaskSpec {
  return { script: [], environment: {}, headers: {}, query: {}, ...fields };
}

/** Runs one attempt and records everything the executor reported. */
export async function run(executor: Executor, taskSpec: TaskSpec, signal: AbortSignal = new AbortController().signal): Promise<Run> {
  const logs: Run['logs'] = [];
  const outputs: Record<string, string> = {};
  const pids: number[] = [];
  const started = performance.now();
  const result = await executor.execute({
    jobId: 'job',
    taskType: 'task',
    attempt: 1,
    spec: taskSpec,
    signal,
    log: (stream, text, at) => logs.push({ stream, text, at }),
    output: (key, value) => {
      outputs[key] = value;
    },
    started: (pid) => pids.push(pid),
  });
  return { result, logs, outputs, pids, ms: performance.now() - started };
}

import type { AttemptResult } from '../domain/types.js';
import { abortReason, type ExecutionContext, type Executor, type FanOutRequest } from './executor.js';

/** The output (`<item_var>_<i>_item`) that records which item child `i` ran, so a later attempt knows what it may keep. */
export const FAN_OUT_ITEM_KEY = 'item';

/** How one child of a fan-out ended. */
export interface ChildEnd {
  readonly state: string;
  readonly exitCode?: number;
  readonly error?: string;
  readonly outputs: Readonly<Record<string, string>>;
  /** CPU time the child's processes used, where its executor measured it (task children). */
  readonly cpuMs?: number;
}

/** The name child `index` of a fan-out task runs under: its containers and reply subjects, and what a forked child's id is derived from. */
export const fanOutChildTask = (taskType: string, index: number): string => `${taskType}[${index}]`;

/** Runs child `index` until it ends or `signal` aborts (fail_fast, or the task is stopped). */
export type RunChild = (index: number, signal: AbortSignal) => Promise<ChildEnd>;

/**
 * Runs the children of a fan-out, at most `maxParallel` at once, in item order, and joins them:
 * each child's outputs come back as `<itemVar>_<index>_<key>` beside its `_status`, `_exit_code`
 * and `_error_message`, with `FanOutItemCount`, `FanOutSource` and `FanOutMode` (Formicary's
 * names). With `failFast` the first failure stops the running children and starts no more. The
 * result succeeds when at least `successThreshold` percent of the children COMPLETED.
 */
export async function runFanOut(
  context: ExecutionContext,
  request: FanOutRequest,
  mode: 'task' | 'job',
  run: RunChild,
): Promise<AttemptResult> {
  const count = request.labels.length;
  const name = (index: number) => `${request.itemVar}_${index}`;
  const stop = new AbortController();
  const stopChildren = (reason: unknown) => stop.abort(reason);
  const stopped = () => stopChildren(context.signal.reason);
  if (context.signal.aborted) stopped();
  context.signal.addEventListener('abort', stopped, { once: true });
  const ends: (ChildEnd | undefined)[] = new Array(count).fill(undefined);
  /** The children this attempt ran (not those an earlier attempt completed). */
  const ran = new Set<number>();
  let next = 0;
  const worker = async () => {
    while (next < count && !stop.signal.aborted) {
      const index = next++;
      if (ends[index] !== undefined) continue;
      const end = await run(index, stop.signal);
      ends[index] = end;
      ran.add(index);
      context.log('system', `${name(index)} (${request.labels[index]}) ${end.state}${end.error ? `: ${end.error}` : ''}`, new Date());
      if (request.failFast && end.state !== 'COMPLETED' && !stop.signal.aborted) {
        stopChildren(`fail_fast: ${name(index)} (${request.labels[index]}) ended ${end.state}`);
      }
    }
  };
  context.log('system', `fan-out over ${count} item(s) of ${request.source}, at most ${request.maxParallel ?? count} at once`, new Date());
  for (const [index, outputs] of Object.entries(request.done ?? {})) {
    ends[Number(index)] = { state: 'COMPLETED', outputs };
    context.log(
      'system',
      `${name(Number(index))} (${request.labels[Number(index)]}) COMPLETED in an earlier attempt: not run again`,
      new Date(),
    );
  }
  const left = ends.filter((end) => end === undefined).length;
  try {
    await Promise.all(Array.from({ length: Math.min(left, request.maxParallel ?? left) }, worker));
  } finally {
    context.signal.removeEventListener('abort', stopped);
  }

  const notStarted = stop.signal.aborted ? `not started: ${abortReason(stop.signal)}` : 'not started';
  for (const [index, end] of ends.entries()) {
    const child = end ?? { state: 'CANCELLED', error: notStarted, outputs: {} };
    for (const [key, value] of Object.entries(child.outputs)) context.output(`${name(index)}_${key}`, value);
    context.output(`${name(index)}_status`, child.state);
    context.output(`${name(index)}_${FAN_OUT_ITEM_KEY}`, request.labels[index]!);
    if (child.exitCode !== undefined) context.output(`${name(index)}_exit_code`, String(child.exitCode));
    if (child.error !== undefined) context.output(`${name(index)}_error_message`, child.error);
  }
  context.output('FanOutItemCount', String(count));
  context.output('FanOutSource', request.source);
  context.output('FanOutMode', mode);
  const cpu = cpuOfChildren(ends, ran);
  if (context.signal.aborted) return { succeeded: false, error: `stopped during fan-out: ${abortReason(context.signal)}`, ...cpu };
  const completed = ends.filter((end) => end?.state === 'COMPLETED').length;
  if (count === 0 || completed * 100 >= request.successThreshold * count) return { exitCode: 0, succeeded: true, ...cpu };
  const failed = ends.flatMap((end, index) => (end?.state === 'COMPLETED' ? [] : [`${name(index)} ${end?.state ?? 'CANCELLED'}`]));
  return {
    exitCode: 1,
    succeeded: false,
    error: `fan-out: ${completed} of ${count} children completed, ${request.successThreshold}% needed (${failed.join(', ')})`,
    ...cpu,
  };
}

/**
 * The attempt's CPU time: the sum of the children it ran, when each of them measured theirs (task
 * children on SHELL); otherwise none, and the attempt is charged its wall-clock time. Forked jobs
 * report nothing here: their own attempts are charged.
 */
function cpuOfChildren(ends: readonly (ChildEnd | undefined)[], ran: ReadonlySet<number>): { cpuMs?: number } {
  const measured = [...ran].map((index) => ends[index]?.cpuMs);
  if (measured.length === 0 || measured.some((ms) => ms === undefined)) return {};
  return { cpuMs: measured.reduce((sum: number, ms) => sum + ms!, 0) };
}

/**
 * A task fan-out on the ant: each child spec runs through `inner` (the task's own method, with its
 * workspace and reporting) as `<task>[<index>]`, so containers, reply subjects and idempotency keys
 * differ per child; its lines are prefixed with `[<itemVar>_<index>]`.
 */
export function withTaskFanOut(inner: Executor): Executor {
  return {
    method: inner.method,
    execute(context) {
      const request = context.spec.fanOut;
      const children = request?.tasks;
      if (request === undefined || children === undefined) return inner.execute(context);
      return runFanOut(context, request, 'task', async (index, signal) => {
        const outputs: Record<string, string> = {};
        const prefix = `[${request.itemVar}_${index}] `;
        const result = await inner.execute({
          ...context,
          taskType: fanOutChildTask(context.taskType, index),
          spec: { ...children[index]!, ...(context.spec.dependencies === undefined ? {} : { dependencies: context.spec.dependencies }) },
          signal,
          log: (stream, text, at) => context.log(stream, `${prefix}${text}`, at),
          output: (key, value) => {
            outputs[key] = value;
          },
        });
        const state = signal.aborted && !result.succeeded ? 'CANCELLED' : result.succeeded ? 'COMPLETED' : 'FAILED';
        return {
          state,
          ...(result.exitCode === undefined ? {} : { exitCode: result.exitCode }),
          ...(result.error === undefined ? {} : { error: result.error }),
          ...(result.cpuMs === undefined ? {} : { cpuMs: result.cpuMs }),
          outputs,
        };
      });
    },
  };
}

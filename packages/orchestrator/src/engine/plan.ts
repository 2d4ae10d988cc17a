import type { JobDefinition, TaskDefinition } from '../definition/model.js';
import { isTerminalTask, type TaskState } from '../domain/states.js';
import { graphOf, type JobGraph } from './graph.js';

export interface TaskSnapshot {
  readonly state: TaskState;
  readonly route?: string;
  readonly fatal?: boolean;
  readonly reason?: string;
}

export interface JobSnapshot {
  /** `cancel`: nothing new starts, everything unfinished is cancelled; `timeout`: the job is failing. */
  readonly stop?: 'cancel' | 'timeout';
  readonly tasks: ReadonlyMap<string, TaskSnapshot>;
  /**
   * A task's `skip_if` / `except`, asked when the task would start: `skip` passes it over (see
   * SKIPPED_BY_CONDITION), `fail` ends it FAILED (the condition could not be evaluated), undefined runs it.
   */
  readonly condition?: (taskType: string) => { readonly skip: string } | { readonly fail: string } | undefined;
}

/**
 * The reason of a task passed over by its `skip_if` / `except`: it ends SKIPPED but the flow goes on
 * as if it had completed (its `on_completed` route is taken, it satisfies `needs`).
 */
export const SKIPPED_BY_CONDITION = 'skipped: skip_if is true';

export interface Plan {
  /** PENDING tasks to make READY. */
  readonly start: readonly string[];
  /** Tasks to end SKIPPED; `route` when a task passed over by its condition routes on. */
  readonly skip: readonly { readonly taskType: string; readonly reason: string; readonly route?: string }[];
  /** Tasks to end FAILED before they start (their condition could not be evaluated). */
  readonly fail?: readonly { readonly taskType: string; readonly reason: string }[];
  /** Unfinished tasks to mark CANCELLED (running ones must also be killed). */
  readonly cancel: readonly string[];
  /** Set when every task is terminal. */
  readonly outcome?: { readonly state: 'COMPLETED' | 'FAILED' | 'CANCELLED'; readonly reason: string };
}

/**
 * The tasks a task waits for (the DAG join): `needs` in the definition model, which was called
 * `dependencies` before `dependencies` took Formicary's meaning (artifacts only).
 */
function joinOf(task: TaskDefinition): readonly string[] {
  return (task as { readonly needs?: readonly string[] }).needs ?? task.dependencies;
}

type Decision = { kind: 'start' } | { kind: 'skip'; reason: string } | { kind: 'wait' } | { kind: 'atEnd' };

class Evaluation {
  readonly states = new Map<string, TaskSnapshot>();
  constructor(
    readonly graph: JobGraph,
    snapshot: JobSnapshot,
  ) {
    for (const task of graph.definition.tasks) this.states.set(task.taskType, snapshot.tasks.get(task.taskType) ?? { state: 'PENDING' });
  }

  state(taskType: string): TaskState {
    return this.states.get(taskType)?.state ?? 'PENDING';
  }

  satisfied(taskType: string): boolean {
    const snap = this.states.get(taskType);
    const task = this.graph.tasks.get(taskType);
    return (
      snap?.state === 'COMPLETED' ||
      (snap?.state === 'SKIPPED' && snap.reason === SKIPPED_BY_CONDITION) ||
      (snap?.state === 'FAILED' && task?.allowFailure === true && !snap.fatal)
    );
  }

  /** A failure that stops new work: FATAL, or a FAILED task without allow_failure and without on_failed. */
  failing(stop: JobSnapshot['stop']): boolean {
    if (stop === 'timeout') return true;
    for (const [taskType, snap] of this.states) {
      if (snap.state !== 'FAILED') continue;
      const task = this.graph.tasks.get(taskType);
      if (snap.fatal || (!task?.allowFailure && !task?.onFailed)) return true;
    }
    return false;
  }

  routeStatus(taskType: string): 'none' | 'routed' | 'waiting' | 'never' {
    const sources = this.graph.routeSources.get(taskType) ?? [];
    if (sources.length === 0) return 'none';
    if (sources.some((source) => this.states.get(source)?.route === taskType)) return 'routed';
    return sources.every((source) => isTerminalTask(this.state(source))) ? 'never' : 'waiting';
  }

  decide(taskType: string, failing: boolean): Decision {
    const task = this.graph.tasks.get(taskType)!;
    const deps = joinOf(task);
    if (!task.alwaysRun && failing) return { kind: 'skip', reason: 'job failing' };
    if (deps.some((dep) => !isTerminalTask(this.state(dep)))) return { kind: 'wait' };
    const route = this.routeStatus(taskType);
    if (task.alwaysRun) {
      if (route === 'routed') return { kind: 'start' };
      if (route === 'waiting') return { kind: 'wait' };
      return deps.length > 0 && route === 'none' ? { kind: 'start' } : { kind: 'atEnd' };
    }
    const unmet = deps.find((dep) => !this.satisfied(dep));
    if (unmet !== undefined) return { kind: 'skip', reason: `dependency ${unmet} ended ${this.state(unmet)}` };
    if (route === 'routed') return { kind: 'start' };
    if (route === 'waiting') return { kind: 'wait' };
    if (route === 'never') return { kind: 'skip', reason: 'no route to it was taken' };
    if (deps.length > 0 || this.graph.starts.has(taskType)) return { kind: 'start' };
    return { kind: 'skip', reason: 'unreachable' };
  }
}

/**
 * The job's next step, from its definition and the current task states: which tasks become READY,
 * which end SKIPPED or CANCELLED, and the job's outcome once nothing is left. Pure; the supervisor
 * writes the result to the store.
 */
export function planJob(definition: JobDefinition, snapshot: JobSnapshot): Plan {
  const evaluation = new Evaluation(graphOf(definition), snapshot);
  const order = definition.tasks.map((task) => task.taskType);

  if (snapshot.stop === 'cancel') {
    const cancel = order.filter((taskType) => !isTerminalTask(evaluation.state(taskType)));
    return { start: [], skip: [], cancel, outcome: { state: 'CANCELLED', reason: 'cancelled' } };
  }

  const start: string[] = [];
  const skip: { taskType: string; reason: string; route?: string }[] = [];
  const fail: { taskType: string; reason: string }[] = [];
  const mark = (taskType: string, state: TaskState, more: Partial<TaskSnapshot> = {}) =>
    evaluation.states.set(taskType, { ...evaluation.states.get(taskType), state, ...more });
  /** A task that would start: its condition may pass it over or fail it instead. */
  const begin = (taskType: string) => {
    const verdict = snapshot.condition?.(taskType);
    if (verdict === undefined) {
      start.push(taskType);
      mark(taskType, 'READY');
    } else if ('skip' in verdict) {
      const route = evaluation.graph.tasks.get(taskType)?.onCompleted;
      skip.push({ taskType, reason: verdict.skip, ...(route === undefined ? {} : { route }) });
      mark(taskType, 'SKIPPED', { reason: verdict.skip, ...(route === undefined ? {} : { route }) });
    } else {
      fail.push({ taskType, reason: verdict.fail });
      mark(taskType, 'FAILED', { reason: verdict.fail });
    }
  };

  for (let changed = true; changed; ) {
    changed = false;
    const failing = evaluation.failing(snapshot.stop);
    const atEnd: string[] = [];
    for (const taskType of order) {
      const state = evaluation.state(taskType);
      const task = evaluation.graph.tasks.get(taskType)!;
      // A READY task has not started yet (or waits to retry): a failing job drops it like a PENDING one.
      if (state === 'READY' && failing && !task.alwaysRun) {
        skip.push({ taskType, reason: 'job failing' });
        mark(taskType, 'SKIPPED');
        changed = true;
        continue;
      }
      if (state !== 'PENDING') continue;
      const decision = evaluation.decide(taskType, failing);
      if (decision.kind === 'start') {
        begin(taskType);
        changed = true;
      } else if (decision.kind === 'skip') {
        skip.push({ taskType, reason: decision.reason });
        mark(taskType, 'SKIPPED');
        changed = true;
      } else if (decision.kind === 'atEnd') {
        atEnd.push(taskType);
      }
    }
    // always_run tasks with nothing to wait for run at the end: once nothing else can move. (Other
    // tasks may still be PENDING when they wait for one of these, e.g. a route from an always_run task.)
    const quiet = order.every((t) => evaluation.state(t) !== 'READY' && evaluation.state(t) !== 'EXECUTING');
    if (!changed && atEnd.length > 0 && quiet) {
      for (const taskType of atEnd) begin(taskType);
      // A passed-over always_run task may route on: look again.
      changed = atEnd.some((taskType) => evaluation.state(taskType) !== 'READY');
    }
  }

  return { start, skip, cancel: [], ...(fail.length === 0 ? {} : { fail }), outcome: outcomeOf(evaluation, order, snapshot.stop) };
}

function outcomeOf(evaluation: Evaluation, order: readonly string[], stop: JobSnapshot['stop']): Plan['outcome'] {
  if (!order.every((taskType) => isTerminalTask(evaluation.state(taskType)))) return undefined;
  if (stop === 'timeout') return { state: 'FAILED', reason: 'job timeout' };
  for (const taskType of order) {
    const snap = evaluation.states.get(taskType)!;
    if (snap.state === 'FAILED' && (snap.fatal || !evaluation.graph.tasks.get(taskType)?.allowFailure)) {
      return { state: 'FAILED', reason: `task ${taskType} failed${snap.reason ? `: ${snap.reason}` : ''}` };
    }
  }
  return { state: 'COMPLETED', reason: 'all tasks finished' };
}

/** Tasks a restart runs again: soft keeps COMPLETED ones, hard runs everything. */
export function tasksToRestart(snapshot: JobSnapshot, hard: boolean): readonly string[] {
  return [...snapshot.tasks]
    .filter(([, snap]) => hard || snap.state === 'FAILED' || snap.state === 'CANCELLED' || snap.state === 'SKIPPED')
    .map(([taskType]) => taskType);
}

/** The wait before an automatic whole-job retry, or undefined when the job has used its retries. */
export function jobRetryDelay(definition: JobDefinition, retriesTaken: number): number | undefined {
  return retriesTaken < definition.retry ? definition.delayBetweenRetriesMs : undefined;
}

import type { Plan, ResolvedStep } from './definition.js';

/**
 * running -> completed, or running -> compensating -> compensated. `failed` needs a person (or
 * `myrmex saga retry|compensate`): a step after the pivot, or a compensation, ran out of attempts.
 */
export type SagaStatus = 'running' | 'compensating' | 'completed' | 'compensated' | 'failed';
export type StepStatus = 'pending' | 'running' | 'waiting' | 'done' | 'failed' | 'compensating' | 'compensated';

export const ACTIVE: readonly SagaStatus[] = ['running', 'compensating'];
export const SAGA_STATUSES: readonly SagaStatus[] = ['running', 'compensating', 'completed', 'compensated', 'failed'];

export interface StepState {
  status: StepStatus;
  attempts: number;
  compensationAttempts: number;
  output?: unknown;
  error?: string;
}

/** Everything about one saga that is stored (as JSON) in its row. */
export interface SagaState {
  status: SagaStatus;
  data: unknown;
  steps: Record<string, StepState>;
  /** Steps in the order they finished, so compensation runs in reverse. */
  done: string[];
  /** Ids of events already delivered (choreography), so a redelivery is ignored. */
  events: string[];
  /** Where a `failed` saga goes on retry. */
  failedWhile?: 'running' | 'compensating';
  /** A pivot step is done: from here the saga only goes forward. */
  pivotPassed?: boolean;
  error?: string;
}

export function initialState(plan: Plan, data: unknown): SagaState {
  const steps: Record<string, StepState> = {};
  for (const name of plan.byName.keys()) steps[name] = { status: 'pending', attempts: 0, compensationAttempts: 0 };
  return { status: 'running', data, steps, done: [], events: [] };
}

/** The first stage with a step not done, or undefined when every step is done. */
export function currentStage<Data>(plan: Plan<Data>, state: SagaState): readonly ResolvedStep<Data>[] | undefined {
  return plan.stages.find((stage) => stage.some((step) => state.steps[step.name]?.status !== 'done'));
}

/** Done steps that still need undoing, latest first. */
export function toCompensate(state: SagaState): string[] {
  return [...state.done].reverse().filter((name) => state.steps[name]?.status !== 'compensated');
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

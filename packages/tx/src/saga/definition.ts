/** What a step receives. `idempotencyKey` is the same on every attempt and after a crash. */
export interface StepContext<Data = unknown> {
  readonly sagaId: string;
  readonly step: string;
  /** `${sagaId}:${step}` (compensation: `${sagaId}:${step}:compensate`): hand it to the service called, so a retry is no duplicate. */
  readonly idempotencyKey: string;
  /** 1 on the first attempt; counts attempts made before a crash too. */
  readonly attempt: number;
  /** The saga's input. */
  readonly data: Data;
  /** Outputs of the steps done so far, by step name. */
  readonly results: Readonly<Record<string, unknown>>;
  /** Aborted when the step's timeout passes. */
  readonly signal: AbortSignal;
}

export interface StepRetry {
  /** Attempts in total, the first one included. */
  readonly attempts: number;
  readonly backoffMs?: number;
}

export interface SagaStep<Data = unknown> {
  readonly name: string;
  /** Its value is kept (JSON) as the step's output. Omit it for a step advanced by an event (`awaitEvent`). */
  readonly execute?: (ctx: StepContext<Data>) => unknown;
  /** Undoes `execute`; receives the step's output in `results[name]`. A step without one needs no undo. */
  readonly compensate?: (ctx: StepContext<Data>) => unknown;
  readonly retry?: number | StepRetry;
  readonly timeoutMs?: number;
  /**
   * The point of no return: once a pivot step is done the saga only goes forward; a later failure
   * leaves it `failed` for a retry instead of compensating.
   */
  readonly pivot?: boolean;
  /** Choreography: the step is done when `runner.deliver(sagaId, event)` brings an event of this type. */
  readonly awaitEvent?: string;
}

/** Steps that run at the same time; the saga moves on when all are done. */
export interface ParallelGroup<Data = unknown> {
  readonly parallel: readonly SagaStep<Data>[];
}

export interface SagaDefinition<Data = unknown> {
  readonly name: string;
  readonly steps: readonly (SagaStep<Data> | ParallelGroup<Data>)[];
}

export interface ResolvedStep<Data = unknown> extends SagaStep<Data> {
  readonly attempts: number;
  readonly backoffMs: number;
  /** Index of its stage: a lone step, or one parallel group. */
  readonly stage: number;
}

export interface Plan<Data = unknown> {
  readonly name: string;
  readonly stages: readonly (readonly ResolvedStep<Data>[])[];
  readonly byName: ReadonlyMap<string, ResolvedStep<Data>>;
}

const NAME = /^[A-Za-z0-9_.-]{1,100}$/;

function resolveStep<Data>(step: SagaStep<Data>, stage: number, where: string): ResolvedStep<Data> {
  if (step === null || typeof step !== 'object') throw new TypeError(`${where} must be a step object`);
  if (typeof step.name !== 'string' || !NAME.test(step.name))
    throw new TypeError(`${where}.name must be 1-100 letters, digits, "_", "." or "-", got ${JSON.stringify(step.name)}`);
  const at = `${where} (${step.name})`;
  if (step.awaitEvent !== undefined) {
    if (typeof step.awaitEvent !== 'string' || step.awaitEvent === '') throw new TypeError(`${at}.awaitEvent must be an event type`);
    if (step.execute !== undefined) throw new TypeError(`${at}: a step has either execute or awaitEvent, not both`);
  } else if (typeof step.execute !== 'function') throw new TypeError(`${at}.execute must be a function`);
  if (step.compensate !== undefined && typeof step.compensate !== 'function') throw new TypeError(`${at}.compensate must be a function`);
  if (step.timeoutMs !== undefined && !(Number.isInteger(step.timeoutMs) && step.timeoutMs > 0))
    throw new TypeError(`${at}.timeoutMs must be a positive integer`);
  const retry = typeof step.retry === 'number' ? { attempts: step.retry } : (step.retry ?? { attempts: 1 });
  if (!Number.isInteger(retry.attempts) || retry.attempts < 1) throw new TypeError(`${at}.retry attempts must be a positive integer`);
  const backoffMs = retry.backoffMs ?? 50;
  if (!Number.isInteger(backoffMs) || backoffMs < 0) throw new TypeError(`${at}.retry.backoffMs must be an integer >= 0`);
  return { ...step, attempts: retry.attempts, backoffMs, stage };
}

/** Checks a definition and flattens it into stages; names must be unique. */
export function planSaga<Data>(definition: SagaDefinition<Data>): Plan<Data> {
  if (definition === null || typeof definition !== 'object') throw new TypeError('saga definition must be an object');
  if (typeof definition.name !== 'string' || !NAME.test(definition.name))
    throw new TypeError(`saga name must be 1-100 letters, digits, "_", "." or "-", got ${JSON.stringify(definition.name)}`);
  if (!Array.isArray(definition.steps) || definition.steps.length === 0)
    throw new TypeError(`saga ${definition.name}: steps must be a non-empty array`);
  const stages = definition.steps.map((entry, index) => {
    const where = `saga ${definition.name} steps[${index}]`;
    if (entry !== null && typeof entry === 'object' && 'parallel' in entry) {
      const group = (entry as ParallelGroup<Data>).parallel;
      if (!Array.isArray(group) || group.length === 0) throw new TypeError(`${where}.parallel must be a non-empty array`);
      return group.map((step: SagaStep<Data>, i: number) => {
        const resolved = resolveStep(step, index, `${where}.parallel[${i}]`);
        if (resolved.pivot) throw new TypeError(`${where}.parallel[${i}]: a pivot step cannot run in a parallel group`);
        return resolved;
      });
    }
    return [resolveStep(entry as SagaStep<Data>, index, where)];
  });
  const byName = new Map<string, ResolvedStep<Data>>();
  for (const step of stages.flat()) {
    if (byName.has(step.name)) throw new TypeError(`saga ${definition.name}: two steps are named ${step.name}`);
    byName.set(step.name, step);
  }
  return { name: definition.name, stages, byName };
}

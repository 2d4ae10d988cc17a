import type { SagaState } from './state.js';
import type { SagaRecord, SagaStore } from './store.js';

/** An operator's request the saga's state does not allow; the message says why and what to do instead. */
export class SagaAdminError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SagaAdminError';
  }
}

async function load(store: SagaStore, id: string): Promise<SagaRecord> {
  const record = await store.get(id);
  if (record === undefined) throw new SagaAdminError(`no saga ${id}`);
  return record;
}

/**
 * Gives a `failed` saga its attempts back, where it failed (forward after the pivot, or its
 * compensation), and releases it: the next `runner.recover()` in any process with its definition
 * drives it on. Needs no definitions, so `myrmex saga retry` works from anywhere.
 */
export async function retrySaga(store: SagaStore, id: string): Promise<SagaRecord> {
  const record = await load(store, id);
  if (record.status !== 'failed') throw new SagaAdminError(`saga ${id} is ${record.status}; only a failed saga can be retried`);
  const state: SagaState = structuredClone(record.state);
  state.status = state.failedWhile ?? 'running';
  for (const step of Object.values(state.steps)) {
    if (state.status === 'running' && step.status === 'failed') {
      step.status = 'pending';
      step.attempts = 0;
    }
    if (state.status === 'compensating' && step.status === 'compensating') step.compensationAttempts = 0;
  }
  state.failedWhile = undefined;
  state.error = undefined;
  await store.transition(id, record.version, undefined, state, { kind: 'retry-requested' }, { owner: null, until: null }, Date.now());
  return load(store, id);
}

/**
 * Turns a saga that is waiting or failed (forward) into a compensating one, released for the next
 * `runner.recover()`. Refused once a pivot step is done, unless `force`: the pivot is the point of
 * no return the saga's author chose.
 */
export async function compensateSaga(store: SagaStore, id: string, options: { force?: boolean } = {}): Promise<SagaRecord> {
  const record = await load(store, id);
  const { state } = record;
  const waiting = record.status === 'running' && Object.values(state.steps).some((s) => s.status === 'waiting');
  const heldAlive = record.status === 'running' && record.owner !== null && (record.leaseUntil ?? 0) > Date.now();
  if (!(waiting || (record.status === 'failed' && state.failedWhile === 'running') || (record.status === 'running' && !heldAlive)))
    throw new SagaAdminError(
      `saga ${id} is ${record.status}${heldAlive ? ' and a runner is driving it' : ''}; ` +
        'only a waiting saga, a failed one (forward), or one whose runner died can be compensated',
    );
  if (state.pivotPassed === true && options.force !== true)
    throw new SagaAdminError(`saga ${id} is past its pivot step; pass force to compensate anyway`);
  const next: SagaState = structuredClone(state);
  next.status = 'compensating';
  next.failedWhile = undefined;
  for (const step of Object.values(next.steps)) if (step.status === 'waiting' || step.status === 'running') step.status = 'failed';
  await store.transition(
    id,
    record.version,
    undefined,
    next,
    { kind: 'compensate-requested', detail: { force: options.force === true } },
    { owner: null, until: null },
    Date.now(),
  );
  return load(store, id);
}

import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Mutex } from '../adapters/mutex.js';
import { type Plan, planSaga, type ResolvedStep, type SagaDefinition, type StepContext } from './definition.js';
import { currentStage, describeError, initialState, type SagaState, type SagaStatus, type StepState, toCompensate } from './state.js';
import { SagaOwnershipLostError, type SagaRecord, type SagaStore } from './store.js';

/** What `onTransition` sees after each committed transition. */
export interface TransitionNotice {
  readonly sagaId: string;
  readonly kind: string;
  readonly step?: string;
  readonly status: SagaStatus;
  readonly version: number;
}

/** An event for a choreographed step (from an outbox consumer, a webhook...). `id` deduplicates. */
export interface SagaEventMessage {
  readonly id: string;
  readonly type: string;
  readonly payload?: unknown;
}

export interface SagaRunnerOptions {
  readonly store: SagaStore;
  // biome-ignore lint/suspicious/noExplicitAny: definitions of any data type share one runner
  readonly sagas: readonly SagaDefinition<any>[];
  /** How long a runner holds a saga without renewing; another process takes over after it. Default 30 s. */
  readonly leaseMs?: number;
  readonly owner?: string;
  /** Called after every committed transition (metrics, logs, tests that crash at a boundary). */
  readonly onTransition?: (notice: TransitionNotice) => unknown;
}

/** How a drive ended for the caller: final, or parked (waiting for an event, held elsewhere). */
export interface SagaOutcome {
  readonly id: string;
  readonly status: SagaStatus;
  /** True when the saga waits for an event (choreography) or another process holds it. */
  readonly parked: boolean;
  readonly results: Readonly<Record<string, unknown>>;
  readonly error?: string;
}

export class StepTimeoutError extends Error {
  constructor(step: string, timeoutMs: number) {
    super(`step ${step} timed out after ${timeoutMs} ms`);
    this.name = 'StepTimeoutError';
  }
}

/** One saga this runner holds: its state, the version it wrote last, and the lock its transitions take. */
interface Held {
  readonly id: string;
  readonly plan: Plan;
  state: SagaState;
  version: number;
  readonly lock: Mutex;
  lost: boolean;
  heartbeat?: NodeJS.Timeout;
}

const ID = /^[A-Za-z0-9_.:-]{1,200}$/;

/**
 * Runs orchestrated sagas whose state lives in the database. Every transition is one transaction
 * that compare-and-sets the saga's row; a lease (renewed while it works) says which process drives
 * a saga, and `recover()` in any process takes over sagas whose holder died. A step may run again
 * after a crash, always with the same idempotency key: the service it calls deduplicates, so its
 * effect happens once.
 */
export class SagaRunner {
  readonly #store: SagaStore;
  readonly #plans = new Map<string, Plan>();
  readonly #leaseMs: number;
  readonly #owner: string;
  readonly #onTransition: SagaRunnerOptions['onTransition'];
  readonly #held = new Set<Held>();

  constructor(options: SagaRunnerOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError('SagaRunner(options): options must be an object');
    if (typeof options.store?.transition !== 'function') throw new TypeError('SagaRunner options.store must be a SagaStore');
    if (!Array.isArray(options.sagas)) throw new TypeError('SagaRunner options.sagas must be an array of saga definitions');
    for (const definition of options.sagas) {
      const plan = planSaga(definition);
      if (this.#plans.has(plan.name)) throw new TypeError(`SagaRunner options.sagas: two sagas are named ${plan.name}`);
      this.#plans.set(plan.name, plan);
    }
    const leaseMs = options.leaseMs ?? 30_000;
    if (!Number.isInteger(leaseMs) || leaseMs < 50) throw new TypeError('SagaRunner options.leaseMs must be an integer >= 50');
    if (options.onTransition !== undefined && typeof options.onTransition !== 'function')
      throw new TypeError('SagaRunner options.onTransition must be a function');
    this.#store = options.store;
    this.#leaseMs = leaseMs;
    this.#owner = options.owner ?? randomUUID();
    this.#onTransition = options.onTransition;
  }

  get owner(): string {
    return this.#owner;
  }

  /** Starts saga `name` with `data` and drives it as far as it goes. An existing `id` is resumed instead. */
  async start(name: string, options: { id?: string; data?: unknown } = {}): Promise<SagaOutcome> {
    const plan = this.#plans.get(name);
    if (plan === undefined)
      throw new TypeError(`start(${JSON.stringify(name)}): no saga of that name (known: ${[...this.#plans.keys()].join(', ')})`);
    const id = options.id ?? randomUUID();
    if (typeof id !== 'string' || !ID.test(id)) throw new TypeError('start options.id must be 1-200 letters, digits, "_", ".", ":" or "-"');
    const state = initialState(plan, options.data ?? null);
    const now = Date.now();
    const created = await this.#store.create(id, name, state, this.#owner, now + this.#leaseMs, now);
    if (!created) return this.resume(id);
    await this.#notify({ sagaId: id, kind: 'started', status: 'running', version: 1 });
    return this.#drive({ id, plan, state, version: 1, lock: new Mutex(), lost: false });
  }

  /** Drives saga `id` if nobody holds it; parked (and untouched) when another process does. */
  async resume(id: string): Promise<SagaOutcome> {
    const record = await this.#store.claim(id, this.#owner, Date.now() + this.#leaseMs, Date.now());
    if (record === undefined) {
      const current = await this.#store.get(id);
      if (current === undefined) throw new TypeError(`resume(${id}): no such saga`);
      return outcomeOf(current.id, current.state, current.status === 'running' || current.status === 'compensating');
    }
    return this.#drive(this.#hold(record));
  }

  /** Takes over every saga whose holder died (lease expired) or that an operator released; returns their outcomes. */
  async recover(): Promise<SagaOutcome[]> {
    const outcomes: SagaOutcome[] = [];
    for (const id of await this.#store.orphans(Date.now())) {
      const record = await this.#store.claim(id, this.#owner, Date.now() + this.#leaseMs, Date.now());
      if (record === undefined) continue;
      if (!this.#plans.has(record.name)) {
        // Another service's saga: leave it for a runner that knows it.
        await this.#store.transition(
          record.id,
          record.version,
          this.#owner,
          record.state,
          { kind: 'skipped', detail: { owner: this.#owner } },
          { owner: null, until: null },
          Date.now(),
        );
        continue;
      }
      outcomes.push(await this.#drive(this.#hold(record)));
    }
    return outcomes;
  }

  /**
   * Choreography: an event that completes (type = the step's `awaitEvent`) a waiting step, then the
   * saga goes on. Redelivered events (same id) are ignored. Returns undefined when another process
   * holds the saga right now: deliver again later.
   */
  async deliver(sagaId: string, event: SagaEventMessage): Promise<SagaOutcome | undefined> {
    if (event === null || typeof event !== 'object' || typeof event.id !== 'string' || typeof event.type !== 'string')
      throw new TypeError('deliver(sagaId, event): event must be { id: string, type: string, payload? }');
    const record = await this.#store.claim(sagaId, this.#owner, Date.now() + this.#leaseMs, Date.now());
    if (record === undefined) {
      const current = await this.#store.get(sagaId);
      if (current === undefined) throw new TypeError(`deliver(${sagaId}): no such saga`);
      if (current.status !== 'running' && current.status !== 'compensating') return outcomeOf(current.id, current.state, false);
      return undefined;
    }
    const held = this.#hold(record);
    if (!held.state.events.includes(event.id)) {
      const waiting = Object.entries(held.state.steps).find(
        ([name, step]) => step.status === 'waiting' && held.plan.byName.get(name)?.awaitEvent === event.type,
      );
      if (waiting !== undefined) {
        const [name] = waiting;
        await this.#commit(held, { kind: 'step-done', step: name, detail: { event: event.id } }, (state) => {
          const step = state.steps[name]!;
          step.status = 'done';
          step.output = event.payload ?? null;
          state.done.push(name);
          state.events.push(event.id);
        });
      }
    }
    return this.#drive(held);
  }

  /** Stops renewing leases; sagas in flight are taken over by another runner once their leases expire. */
  close(): void {
    for (const held of this.#held) clearInterval(held.heartbeat);
    this.#held.clear();
  }

  #hold(record: SagaRecord): Held {
    const plan = this.#plans.get(record.name);
    if (plan === undefined) throw new TypeError(`saga ${record.id} is a ${record.name}, which this runner does not know`);
    return { id: record.id, plan, state: record.state, version: record.version, lock: new Mutex(), lost: false };
  }

  async #notify(notice: TransitionNotice): Promise<void> {
    await this.#onTransition?.(notice);
  }

  /** One transition: `mutate` the state, write it with its event in one transaction, then notify. */
  async #commit(
    held: Held,
    event: { kind: string; step?: string; detail?: Record<string, unknown> },
    mutate: (state: SagaState) => void,
    release = false,
  ): Promise<void> {
    const unlock = await held.lock.lock();
    try {
      if (held.lost) throw new SagaOwnershipLostError(held.id);
      const next = structuredClone(held.state);
      mutate(next);
      const lease = release ? { owner: null, until: null } : { owner: this.#owner, until: Date.now() + this.#leaseMs };
      try {
        held.version = await this.#store.transition(held.id, held.version, this.#owner, next, event, lease, Date.now());
      } catch (error) {
        if (error instanceof SagaOwnershipLostError) held.lost = true;
        throw error;
      }
      held.state = next;
    } finally {
      unlock();
    }
    await this.#notify({ sagaId: held.id, kind: event.kind, step: event.step, status: held.state.status, version: held.version });
  }

  async #drive(held: Held): Promise<SagaOutcome> {
    this.#held.add(held);
    held.heartbeat = setInterval(() => void this.#renew(held), Math.max(10, Math.floor(this.#leaseMs / 3)));
    held.heartbeat.unref();
    try {
      return await this.#advance(held);
    } catch (error) {
      if (error instanceof SagaOwnershipLostError) return outcomeOf(held.id, held.state, true);
      throw error;
    } finally {
      clearInterval(held.heartbeat);
      this.#held.delete(held);
    }
  }

  async #renew(held: Held): Promise<void> {
    const unlock = await held.lock.lock();
    try {
      if (!held.lost && !(await this.#store.renew(held.id, this.#owner, Date.now() + this.#leaseMs))) held.lost = true;
    } catch {
      // A failed renewal is retried at the next beat; the lease still has two beats to run.
    } finally {
      unlock();
    }
  }

  async #advance(held: Held): Promise<SagaOutcome> {
    const { plan } = held;
    for (;;) {
      const { status } = held.state;
      if (status === 'running') {
        const stage = currentStage(plan, held.state);
        if (stage === undefined) {
          await this.#commit(
            held,
            { kind: 'completed' },
            (s) => {
              s.status = 'completed';
            },
            true,
          );
          continue;
        }
        const open = stage.filter((step) => held.state.steps[step.name]?.status !== 'done');
        const ends = await Promise.all(open.map((step) => this.#forward(held, step)));
        if (ends.includes('failed')) {
          const failed = open.filter((_, i) => ends[i] === 'failed').map((step) => step.name);
          if (held.state.pivotPassed === true) {
            await this.#commit(
              held,
              { kind: 'failed', detail: { steps: failed, reason: 'a step after the pivot ran out of attempts' } },
              (s) => {
                s.status = 'failed';
                s.failedWhile = 'running';
                s.error = `step ${failed.join(', ')} failed after the pivot`;
              },
              true,
            );
          } else {
            await this.#commit(held, { kind: 'compensating', detail: { steps: failed } }, (s) => {
              s.status = 'compensating';
              s.error = s.steps[failed[0]!]?.error;
            });
          }
          continue;
        }
        if (ends.includes('waiting')) {
          // Nothing to do until the event arrives: release the saga so whoever receives it can claim it.
          await this.#commit(
            held,
            { kind: 'waiting', detail: { steps: open.filter((_, i) => ends[i] === 'waiting').map((s) => s.name) } },
            () => undefined,
            true,
          );
          return outcomeOf(held.id, held.state, true);
        }
        continue;
      }
      if (status === 'compensating') {
        let failed: string | undefined;
        for (const name of toCompensate(held.state)) {
          if (!(await this.#compensate(held, plan.byName.get(name)!))) {
            failed = name;
            break;
          }
        }
        if (failed !== undefined) {
          await this.#commit(
            held,
            { kind: 'failed', step: failed, detail: { reason: 'compensation ran out of attempts' } },
            (s) => {
              s.status = 'failed';
              s.failedWhile = 'compensating';
            },
            true,
          );
        } else {
          await this.#commit(
            held,
            { kind: 'compensated' },
            (s) => {
              s.status = 'compensated';
            },
            true,
          );
        }
        continue;
      }
      return outcomeOf(held.id, held.state, false);
    }
  }

  #context(held: Held, step: ResolvedStep, attempt: number, key: string, signal: AbortSignal): StepContext {
    const results: Record<string, unknown> = {};
    for (const name of held.state.done) results[name] = held.state.steps[name]?.output;
    return { sagaId: held.id, step: step.name, idempotencyKey: key, attempt, data: held.state.data, results, signal };
  }

  /** Runs one step to done, failed (attempts used up) or waiting (choreography). */
  async #forward(held: Held, step: ResolvedStep): Promise<'done' | 'failed' | 'waiting'> {
    const name = step.name;
    const stateOf = (): StepState => held.state.steps[name]!;
    if (step.awaitEvent !== undefined) {
      if (stateOf().status !== 'waiting')
        await this.#commit(held, { kind: 'step-waiting', step: name, detail: { event: step.awaitEvent } }, (s) => {
          s.steps[name]!.status = 'waiting';
        });
      return 'waiting';
    }
    // A step found running was interrupted by a crash: it gets another attempt even past its limit,
    // since only running it again (same key) tells whether its effect happened.
    let interrupted = stateOf().status === 'running';
    for (;;) {
      const attempt = stateOf().attempts + 1;
      if (attempt > step.attempts && !interrupted) {
        await this.#commit(held, { kind: 'step-failed', step: name, detail: { attempts: stateOf().attempts } }, (s) => {
          s.steps[name]!.status = 'failed';
        });
        return 'failed';
      }
      interrupted = false;
      await this.#commit(held, { kind: 'step-started', step: name, detail: { attempt } }, (s) => {
        const st = s.steps[name]!;
        st.status = 'running';
        st.attempts = attempt;
      });
      try {
        const output = await this.#call(held, step, attempt, `${held.id}:${name}`, step.execute!);
        await this.#commit(held, { kind: 'step-done', step: name, detail: { attempt } }, (s) => {
          const st = s.steps[name]!;
          st.status = 'done';
          st.output = output === undefined ? null : output;
          st.error = undefined;
          s.done.push(name);
          if (step.pivot) s.pivotPassed = true;
        });
        return 'done';
      } catch (error) {
        if (error instanceof SagaOwnershipLostError) throw error;
        const message = describeError(error);
        const last = attempt >= step.attempts;
        await this.#commit(held, { kind: 'step-error', step: name, detail: { attempt, error: message } }, (s) => {
          const st = s.steps[name]!;
          st.status = last ? 'failed' : 'pending';
          st.error = message;
        });
        if (last) return 'failed';
        if (step.backoffMs > 0) await sleep(step.backoffMs * 2 ** (attempt - 1));
      }
    }
  }

  /** Undoes one done step; false when its compensation ran out of attempts. */
  async #compensate(held: Held, step: ResolvedStep): Promise<boolean> {
    const name = step.name;
    if (step.compensate === undefined) {
      await this.#commit(held, { kind: 'step-compensated', step: name, detail: { noop: true } }, (s) => {
        s.steps[name]!.status = 'compensated';
      });
      return true;
    }
    let interrupted = held.state.steps[name]!.status === 'compensating';
    for (;;) {
      const attempt = held.state.steps[name]!.compensationAttempts + 1;
      if (attempt > step.attempts && !interrupted) return false;
      interrupted = false;
      await this.#commit(held, { kind: 'step-compensating', step: name, detail: { attempt } }, (s) => {
        const st = s.steps[name]!;
        st.status = 'compensating';
        st.compensationAttempts = attempt;
      });
      try {
        await this.#call(held, step, attempt, `${held.id}:${name}:compensate`, step.compensate);
        await this.#commit(held, { kind: 'step-compensated', step: name, detail: { attempt } }, (s) => {
          s.steps[name]!.status = 'compensated';
        });
        return true;
      } catch (error) {
        if (error instanceof SagaOwnershipLostError) throw error;
        const message = describeError(error);
        await this.#commit(held, { kind: 'compensation-error', step: name, detail: { attempt, error: message } }, (s) => {
          s.steps[name]!.error = message;
        });
        if (attempt >= step.attempts) return false;
        if (step.backoffMs > 0) await sleep(step.backoffMs * 2 ** (attempt - 1));
      }
    }
  }

  /** Calls execute or compensate under the step's timeout. */
  async #call(held: Held, step: ResolvedStep, attempt: number, key: string, fn: (ctx: StepContext) => unknown): Promise<unknown> {
    const controller = new AbortController();
    const ctx = this.#context(held, step, attempt, key, controller.signal);
    const work = Promise.resolve().then(() => fn(ctx));
    if (step.timeoutMs === undefined) return work;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new StepTimeoutError(step.name, step.timeoutMs!);
        controller.abort(error);
        reject(error);
      }, step.timeoutMs);
    });
    try {
      return await Promise.race([work, deadline]);
    } finally {
      clearTimeout(timer);
      work.catch(() => undefined);
    }
  }
}

function outcomeOf(id: string, state: SagaState, parked: boolean): SagaOutcome {
  const results: Record<string, unknown> = {};
  for (const name of state.done) results[name] = state.steps[name]?.output;
  return { id, status: state.status, parked, results, ...(state.error ? { error: state.error } : {}) };
}

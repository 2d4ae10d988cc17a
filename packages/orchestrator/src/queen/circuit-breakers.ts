import type { Logger } from 'pino';
import { parseDuration, unboundedMs } from '../definition/duration.js';
import type { JobDefinition, TaskDefinition } from '../definition/model.js';
import {
  afterResult,
  type BreakerSettings,
  type BreakerState,
  closedBreaker,
  type Gate,
  gate,
  isHostFailure,
} from '../domain/circuit-breaker.js';
import type { AttemptResult } from '../domain/types.js';
import type { CircuitBreakerStore } from '../store/circuit-breakers.js';

export const DEFAULT_BREAKER: BreakerSettings = { failures: 5, openMs: 30_000, whenOpen: 'fail' };

/** MYRMEX_CIRCUIT_BREAKER: `on`, or `failures=5,open_for=30s,when_open=wait` (each optional): the breaker for every HTTP task. */
export function parseBreakerSettings(text: string): BreakerSettings | undefined {
  if (/^(off|false|0|no|)$/i.test(text.trim())) return undefined;
  if (/^(on|true|1|yes)$/i.test(text.trim())) return DEFAULT_BREAKER;
  let settings = DEFAULT_BREAKER;
  for (const entry of text
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const [key, value = ''] = entry.split('=', 2) as [string, string?];
    if (key === 'failures' && /^[1-9]\d*$/.test(value)) settings = { ...settings, failures: Number(value) };
    else if (key === 'open_for' && value !== '') settings = { ...settings, openMs: parseDuration(value) };
    else if (key === 'when_open' && (value === 'fail' || value === 'wait')) settings = { ...settings, whenOpen: value };
    else throw new RangeError(`MYRMEX_CIRCUIT_BREAKER: '${entry}' is not failures=N, open_for=DURATION or when_open=fail|wait`);
  }
  return settings;
}

/** The host a task's URL targets (host:port, as breakers are kept), or undefined for no valid URL. */
export function breakerHost(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    return new URL(url).host || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The queen's side of the HTTP circuit breakers. Before an HTTP attempt goes to its ant, `before`
 * asks the host's breaker (and takes the half-open probe with a compare-and-set, so of several
 * queens one probes); when its result comes back, `after` records it. State lives in the store.
 */
export class QueenBreakers {
  /** Attempts that passed a breaker, by assignment id: whose result to record, and with which settings. */
  private readonly inFlight = new Map<string, { host: string; settings: BreakerSettings }>();

  constructor(
    private readonly store: CircuitBreakerStore,
    private readonly defaults: BreakerSettings | undefined,
    private readonly logger: Logger,
  ) {}

  /** The task's settings: its own `circuit_breaker`, else its job's, over the queen's defaults; undefined when off. */
  settingsFor(definition: JobDefinition, task: TaskDefinition): BreakerSettings | undefined {
    const spec = task.circuitBreaker ?? definition.circuitBreaker;
    if (spec === false) return undefined;
    if (spec === undefined) return this.defaults;
    const base = this.defaults ?? DEFAULT_BREAKER;
    const openMs = spec.open_for === undefined ? undefined : unboundedMs(spec.open_for);
    return {
      failures: spec.failures ?? base.failures,
      openMs: openMs ?? base.openMs,
      whenOpen: spec.when_open ?? base.whenOpen,
    };
  }

  /**
   * Whether the attempt may call `host` now. A half-open probe is held for `probeMs` (the attempt's
   * time limit): if its queen dies, another task probes after that.
   */
  async before(assignment: string, host: string, settings: BreakerSettings, probeMs: number): Promise<Gate> {
    for (;;) {
      const now = Date.now();
      const read = await this.store.read(host);
      const decided = gate(read?.state ?? closedBreaker(host, now), settings, now, probeMs);
      if (decided.next === undefined || (await this.store.compareAndSet(decided.next, read?.revision))) {
        if (decided.gate.go) this.inFlight.set(assignment, { host, settings });
        return decided.gate;
      }
      // Another queen moved the breaker between the read and the write: decide again from its state.
    }
  }

  /** Records an attempt's outcome on its host's breaker (a no-op for attempts that passed none). */
  async after(assignment: string, result: AttemptResult): Promise<void> {
    const flight = this.inFlight.get(assignment);
    if (!flight) return;
    this.inFlight.delete(assignment);
    const { host, settings } = flight;
    const ok = !isHostFailure(result);
    try {
      for (;;) {
        const now = Date.now();
        const read = await this.store.read(host);
        const state = read?.state ?? closedBreaker(host, now);
        // A success on a closed breaker with no failures changes nothing: no write on the common path.
        if (ok && state.phase === 'closed' && state.failures === 0) return;
        const next = afterResult(state, settings, ok, now, ok ? undefined : (result.error ?? `HTTP ${result.exitCode}`));
        if (await this.store.compareAndSet(next, read?.revision)) {
          if (next.phase !== state.phase) this.logger.info({ host, from: state.phase, to: next.phase }, 'circuit breaker changed');
          return;
        }
      }
    } catch (err) {
      this.logger.warn({ err, host }, 'could not record a result on the circuit breaker');
    }
  }

  list(): Promise<readonly BreakerState[]> {
    return this.store.list();
  }
}

/**
 * A circuit breaker per HTTP target host (issue 14, the article's advice against cascading
 * failures): after `failures` failures in a row the host is open and tasks to it fail fast or wait;
 * once `openMs` has passed one task goes through as a half-open probe; its success closes the
 * breaker, its failure opens it again. Pure: the store keeps the state and writes each step with a
 * compare-and-set, so the queens sharing it agree on one probe.
 */
export type BreakerPhase = 'closed' | 'open' | 'half_open';

export interface BreakerSettings {
  /** Failures in a row that open the breaker. */
  readonly failures: number;
  /** How long it stays open before a probe may go. */
  readonly openMs: number;
  /** What a task to an open host does: fail at once (using an attempt), or wait without using one. */
  readonly whenOpen: 'fail' | 'wait';
}

export interface BreakerState {
  readonly host: string;
  readonly phase: BreakerPhase;
  /** Failures in a row (reset by a success). */
  readonly failures: number;
  readonly openedAt?: number;
  /** While half-open: the probe in flight holds the host until then (a probe whose queen died frees it). */
  readonly probeUntil?: number;
  readonly lastError?: string;
  readonly updatedAt: number;
}

export type Gate =
  | { readonly go: true; readonly probe: boolean }
  | { readonly go: false /** Epoch ms when a probe may go. */; readonly retryAt: number; readonly reason: string };

export const closedBreaker = (host: string, now: number): BreakerState => ({ host, phase: 'closed', failures: 0, updatedAt: now });

/** Whether a request to the host may go now, and the state to write if it changes (`next`). */
export function gate(state: BreakerState, settings: BreakerSettings, now: number, probeMs: number): { gate: Gate; next?: BreakerState } {
  if (state.phase === 'closed') return { gate: { go: true, probe: false } };
  const opened = state.openedAt ?? now;
  const probeAt = state.phase === 'open' ? opened + settings.openMs : (state.probeUntil ?? now);
  if (now < probeAt) {
    const why = state.phase === 'open' ? `${state.failures} failures in a row` : 'a half-open probe is in flight';
    return {
      gate: {
        go: false,
        retryAt: probeAt,
        reason: `circuit open for ${state.host}: ${why}${state.lastError ? ` (last: ${state.lastError})` : ''}`,
      },
    };
  }
  return { gate: { go: true, probe: true }, next: { ...state, phase: 'half_open', probeUntil: now + probeMs, updatedAt: now } };
}

/** The state after a request's outcome: a success closes, a failure counts and opens at the threshold or after a probe. */
export function afterResult(state: BreakerState, settings: BreakerSettings, ok: boolean, now: number, error?: string): BreakerState {
  if (ok) return closedBreaker(state.host, now);
  const failures = state.failures + 1;
  const base = { host: state.host, failures, updatedAt: now, ...(error === undefined ? {} : { lastError: error.slice(0, 200) }) };
  if (state.phase === 'half_open' || (state.phase === 'closed' && failures >= settings.failures)) {
    return { ...base, phase: 'open', openedAt: now };
  }
  return { ...base, phase: state.phase, ...(state.openedAt === undefined ? {} : { openedAt: state.openedAt }) };
}

/** An HTTP outcome that says the host is in trouble: no response at all (refused, reset, timed out) or a 5xx. */
export function isHostFailure(result: { readonly succeeded: boolean; readonly exitCode?: number }): boolean {
  if (result.succeeded) return false;
  return result.exitCode === undefined || result.exitCode >= 500;
}

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  afterResult,
  type BreakerSettings,
  type BreakerState,
  closedBreaker,
  gate,
  isHostFailure,
} from '../../src/domain/circuit-breaker.js';
import { breakerHost, parseBreakerSettings } from '../../src/queen/circuit-breakers.js';

const settings: BreakerSettings = { failures: 3, openMs: 1000, whenOpen: 'fail' };

/** Steps a breaker through `events` (a request asking, or an outcome), as the queens would, from time 0. */
function run(events: readonly ({ kind: 'ask' } | { kind: 'result'; ok: boolean } | { kind: 'tick'; ms: number })[]) {
  let state: BreakerState = closedBreaker('h:1', 0);
  let now = 0;
  const log: { now: number; phaseBefore: string; went?: boolean; probe?: boolean; ok?: boolean; state: BreakerState }[] = [];
  for (const event of events) {
    const before = state.phase;
    if (event.kind === 'tick') now += event.ms;
    else if (event.kind === 'ask') {
      const decided = gate(state, settings, now, 500);
      if (decided.next) state = decided.next;
      log.push({ now, phaseBefore: before, went: decided.gate.go, probe: decided.gate.go && decided.gate.probe, state });
      continue;
    } else state = afterResult(state, settings, event.ok, now, event.ok ? undefined : 'HTTP 503');
    log.push({ now, phaseBefore: before, ...(event.kind === 'result' ? { ok: event.ok } : {}), state });
  }
  return log;
}

const events = fc.array(
  fc.oneof(
    fc.constant({ kind: 'ask' as const }),
    fc.boolean().map((ok) => ({ kind: 'result' as const, ok })),
    fc.integer({ min: 1, max: 1500 }).map((ms) => ({ kind: 'tick' as const, ms })),
  ),
  { maxLength: 60 },
);

describe('circuit breaker (pure)', () => {
  it('law: it opens exactly when `failures` failures come in a row on a closed breaker', () => {
    fc.assert(
      fc.property(events, (evs) => {
        let run_ = 0;
        for (const entry of run(evs)) {
          if (entry.ok === undefined) continue;
          if (entry.phaseBefore !== 'closed') {
            run_ = entry.ok ? 0 : run_;
            continue;
          }
          run_ = entry.ok ? 0 : run_ + 1;
          expect(entry.state.phase).toBe(run_ >= settings.failures ? 'open' : 'closed');
          if (entry.state.phase === 'open') run_ = 0;
        }
      }),
    );
  });

  it('law: nothing goes through an open breaker before open_for has passed, and one probe at a time while half-open', () => {
    fc.assert(
      fc.property(events, (evs) => {
        let probeUntil = -1;
        for (const entry of run(evs)) {
          if (entry.went === undefined) continue;
          if (entry.phaseBefore === 'open') {
            expect(entry.went).toBe(entry.now >= (entry.state.openedAt ?? 0) + settings.openMs);
          }
          if (entry.phaseBefore === 'half_open' && entry.went) expect(entry.now).toBeGreaterThanOrEqual(probeUntil);
          if (entry.probe) probeUntil = entry.state.probeUntil!;
          if (entry.phaseBefore === 'closed') expect(entry.went).toBe(true);
        }
      }),
    );
  });

  it('a probe that succeeds closes it; one that fails opens it again for open_for', () => {
    const open = afterResult(
      afterResult(afterResult(closedBreaker('h:1', 0), settings, false, 0), settings, false, 0),
      settings,
      false,
      10,
    );
    expect(open).toEqual({ host: 'h:1', phase: 'open', failures: 3, openedAt: 10, updatedAt: 10 });
    expect(gate(open, settings, 500, 100).gate).toEqual({ go: false, retryAt: 1010, reason: 'circuit open for h:1: 3 failures in a row' });
    const probing = gate(open, settings, 1010, 100);
    expect(probing.gate).toEqual({ go: true, probe: true });
    expect(gate(probing.next!, settings, 1050, 100).gate).toMatchObject({
      go: false,
      retryAt: 1110,
      reason: 'circuit open for h:1: a half-open probe is in flight',
    });
    expect(afterResult(probing.next!, settings, true, 1060)).toEqual(closedBreaker('h:1', 1060));
    expect(afterResult(probing.next!, settings, false, 1060, 'refused')).toMatchObject({
      phase: 'open',
      openedAt: 1060,
      lastError: 'refused',
    });
  });

  it('a host failure is no response at all or a 5xx; a 4xx is the request at fault, not the host', () => {
    expect(isHostFailure({ succeeded: false })).toBe(true);
    expect(isHostFailure({ succeeded: false, exitCode: 503 })).toBe(true);
    expect(isHostFailure({ succeeded: false, exitCode: 404 })).toBe(false);
    expect(isHostFailure({ succeeded: true, exitCode: 200 })).toBe(false);
  });

  it('MYRMEX_CIRCUIT_BREAKER and the host a URL targets', () => {
    expect(parseBreakerSettings('off')).toBeUndefined();
    expect(parseBreakerSettings('on')).toEqual({ failures: 5, openMs: 30_000, whenOpen: 'fail' });
    expect(parseBreakerSettings('failures=2, open_for=10s, when_open=wait')).toEqual({ failures: 2, openMs: 10_000, whenOpen: 'wait' });
    expect(() => parseBreakerSettings('failures=two')).toThrow("MYRMEX_CIRCUIT_BREAKER: 'failures=two' is not failures=N");
    expect(breakerHost('http://127.0.0.1:8080/x?y')).toBe('127.0.0.1:8080');
    expect(breakerHost('not a url')).toBeUndefined();
  });
});

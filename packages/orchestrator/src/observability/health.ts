import type { QueenService } from '../queen/service.js';

export interface Check {
  readonly ok: boolean;
  /** What is wrong and what to do, when not ok; what was seen when ok. */
  readonly detail: string;
}

export interface Readiness {
  readonly ready: boolean;
  readonly checks: { readonly queen: Check; readonly store: Check; readonly ants: Check };
  /** The failing checks' details, so one line says what is wrong. */
  readonly problems: readonly string[];
}

export interface ReadinessOptions {
  /** An ant not heard from for this long is lost (default 30 s). */
  readonly lostAfterMs?: number;
  /** Ready without any ant (a queen that only accepts requests for remote ants). Default false. */
  readonly allowNoAnts?: boolean;
}

/**
 * Whether the queen can do its work: it holds its lease and runs, its store answers, and at least one
 * ant is connected and alive. Each failing check names what is wrong.
 */
export async function readiness(queen: QueenService, options: ReadinessOptions = {}): Promise<Readiness> {
  const lostAfterMs = options.lostAfterMs ?? 30_000;
  let queenCheck: Check;
  let store: Check;
  try {
    const health = await queen.health();
    queenCheck = health.ok
      ? { ok: true, detail: `running for ${Math.round(health.uptimeMs / 1000)} s` }
      : { ok: false, detail: 'the queen is not running: it is stopping, or lost its lease to another queen on this store' };
    store = { ok: true, detail: health.store };
    // health() folds a failing store into ok=false; a direct read tells the two apart.
    await queen.listJobs({ limit: 1 });
  } catch (error) {
    queenCheck ??= { ok: false, detail: 'the queen did not answer' };
    store = { ok: false, detail: `the store is unreachable: ${error instanceof Error ? error.message : String(error)}` };
  }
  let ants: Check;
  try {
    const now = Date.now();
    const list = await queen.ants();
    const live = list.filter((ant) => now - ant.lastSeenAt.getTime() <= lostAfterMs);
    const lost = list.length - live.length;
    if (live.length > 0) ants = { ok: true, detail: `${live.length} live ant(s)${lost > 0 ? `, ${lost} lost` : ''}` };
    else if (options.allowNoAnts) ants = { ok: true, detail: 'no ant, as configured' };
    else
      ants = {
        ok: false,
        detail:
          list.length === 0
            ? 'no ant is connected: tasks cannot run until one connects (serve with --capacity > 0 or start an ant)'
            : `every ant is lost (${lost}, none heard from in ${lostAfterMs} ms)`,
      };
  } catch (error) {
    ants = { ok: false, detail: `cannot list ants: ${error instanceof Error ? error.message : String(error)}` };
  }
  const checks = { queen: queenCheck, store, ants };
  const problems = Object.entries(checks)
    .filter(([, check]) => !check.ok)
    .map(([name, check]) => `${name}: ${check.detail}`);
  return { ready: problems.length === 0, checks, problems };
}

import { setTimeout as sleep } from 'node:timers/promises';

export const TIMED_OUT = Symbol('timed out');

export type Settled<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

/** How long the abort (a statement cancel on another connection) may take before the manager gives up on it. */
const ABORT_WAIT_MS = 1000;

/**
 * Settles `work`, or at `timeoutMs` calls `abort` (bounded) and gives up on it. The work keeps
 * running in the background; the caller discards its connection, so its next statement fails.
 */
export async function withDeadline<T>(
  work: Promise<T>,
  timeoutMs: number | undefined,
  abort: () => Promise<void>,
): Promise<Settled<T> | typeof TIMED_OUT> {
  const settled = work.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (timeoutMs === undefined) return settled;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs);
  });
  try {
    const result = await Promise.race([settled, deadline]);
    if (result !== TIMED_OUT) return result;
    await Promise.race([abort().catch(() => undefined), sleep(ABORT_WAIT_MS)]);
    return TIMED_OUT;
  } finally {
    clearTimeout(timer);
  }
}

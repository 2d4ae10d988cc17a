import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApi, type JobDetail, Queen, TERMINAL_JOB_STATES } from '@myrmex/orchestrator';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll } from 'vitest';

export interface ServedQueen {
  readonly queen: Queen;
  /** The API's base URL on loopback, for `--server`. */
  readonly url: string;
  /** A temporary folder for the test's own files, removed with the queen. */
  readonly dir: string;
}

/**
 * A real queen on a temporary SQLite file with its API on loopback, opened before the describe
 * block's tests and closed after them (call it inside the describe). `capacity: 0` keeps jobs queued.
 */
export function servedQueen(prefix: string, options: { readonly capacity?: number } = {}): { readonly current: ServedQueen } {
  const ref = { current: undefined as unknown as ServedQueen };
  let app: FastifyInstance | undefined;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    const capacity = options.capacity ?? 2;
    const queen = await Queen.open({ dbPath: join(dir, 'q.db'), ant: { capacity }, ...(capacity > 0 && { pollIntervalMs: 20 }) });
    await queen.start();
    app = await createApi(queen, {});
    ref.current = { queen, url: await app.listen({ host: '127.0.0.1', port: 0 }), dir };
  });
  afterAll(async () => {
    await app?.close();
    await ref.current?.queen.stop();
    if (ref.current) rmSync(ref.current.dir, { recursive: true, force: true });
  });
  return ref;
}

/** The job once it is in a terminal state (polled: the condition, not a time, ends the wait). */
export async function ended(queen: Queen, id: string): Promise<JobDetail> {
  for (;;) {
    const job = await queen.getJob(id);
    if (job && TERMINAL_JOB_STATES.includes(job.state)) return job;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

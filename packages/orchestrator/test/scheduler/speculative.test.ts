import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { antSocketRoutes, createApi, frameworkPolicy, Queen, staticAntTokens } from '@myrmex/orchestrator';
import { parseProfile } from '@myrmex/scheduling';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { type Proc, startAnt } from '../ant/remote/harness.js';
import { isAlive, waitUntil } from '../executors/processes.js';
import { until } from '../queen/helpers.js';

const TOKEN = 'speculative-test-token-0123456789';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('speculative execution in the queen (issue 13)', { timeout: 120_000 }, () => {
  it('gives a straggler a backup copy on another ant; the first to finish wins, the other is killed and its result rejected', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'myrmex-speculative-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const warnings: string[] = [];
    const logger = pino(
      { level: 'warn' },
      new Writable({
        write(chunk, _encoding, done) {
          warnings.push(String(chunk));
          done();
        },
      }),
    );
    const policy = frameworkPolicy(parseProfile('name: speculating\nplugins:\n  - fcfs\n  - speculative\n'));
    const queen = await Queen.open({ dbPath: join(dir, 'q.db'), ant: { capacity: 1, id: 'first' }, pollIntervalMs: 50, policy, logger });
    await queen.start();
    const app = await createApi(queen, {
      extend: (scope) =>
        antSocketRoutes(scope, { hub: queen.remoteAnts, authenticateAnt: staticAntTokens(TOKEN), drain: (id) => queen.drainAnt(id) }),
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    cleanups.push(() => queen.stop());
    cleanups.push(() => app.close());
    const address = app.server.address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

    // The first copy to run takes the marker and hangs (a straggler); any later copy finishes at once.
    const pidFile = join(dir, 'straggler.pid');
    await queen.applyDefinition(`job_type: flaky-host
tasks:
  - task_type: compute
    estimated_runtime: 1s
    speculative_backup: 2
    script:
      - 'if mkdir ${join(dir, 'marker')} 2>/dev/null; then echo $$ > ${pidFile}; sleep 60; fi'
      - 'echo finished'
`);
    const job = await queen.submit({ jobType: 'flaky-host' });
    await until(async () => (existsSync(pidFile) ? true : undefined), 30_000);
    const straggler = Number(readFileSync(pidFile, 'utf8'));
    // A second ant connects once the straggler runs on the first: the backup can only go there.
    const second: Proc = await startAnt({ servers: [url], token: TOKEN, id: 'second', capacity: 1, stateDir: join(dir, 'second') });
    cleanups.push(() => second.kill9());
    await second.line(/^connected /);

    const done = await until(async () => {
      const found = await queen.getJob(job.id);
      return found?.state === 'COMPLETED' || found?.state === 'FAILED' ? found : undefined;
    }, 60_000);
    expect(done.state).toBe('COMPLETED');
    // One attempt, run twice: the backup's result (from ant 'second') was recorded first, as the timeline says.
    expect(done.tasks[0]!.attempts).toHaveLength(1);
    const completed = done.timeline.find((e) => e.taskType === 'compute' && e.to === 'COMPLETED');
    expect(completed?.reason).toMatch(/the copy on ant second finished first \(speculative execution\)$/);
    const lines = (await queen.logs(job.id)).map((l) => l.text);
    expect(
      lines.some((l) => /^speculative backup of attempt 1 started on ant second \(straggler: running [\d.]+ s on ant first\)/.test(l)),
    ).toBe(true);
    expect(lines).toContain('finished');
    // The straggler is stopped, and its late result is rejected by the fencing token and logged.
    expect(await waitUntil(() => !isAlive(straggler))).toBe(true);
    await until(async () =>
      (await queen.logs(job.id)).some((l) => l.text.includes('another copy of this attempt finished first')) ? true : undefined,
    );
    await until(async () => (warnings.some((w) => w.includes('rejected a stale attempt result')) ? true : undefined), 30_000);
  });
});

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { isTerminalJob, type JobDetail, PostgresStore, Queen } from '@myrmex/orchestrator';
import { postgres } from '@myrmex/test-utils';
import { expect, it } from 'vitest';
import { JOIN_KEY } from '../engine/definitions.js';

const gate = await postgres();
const here = dirname(fileURLToPath(import.meta.url));
/** Sized for CI; MYRMEX_CHAOS_JOBS=1000 runs the full version. */
const JOBS = Number(process.env.MYRMEX_CHAOS_JOBS ?? 24);
const KILLS = Number(process.env.MYRMEX_CHAOS_KILLS ?? 3);

function startQueenProcess(url: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', join(here, 'queen-server.ts'), url], {
    cwd: join(here, '..', '..'),
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, MYRMEX_LOG_LEVEL: 'silent' },
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`queen process exited early (${code})`)));
    createInterface({ input: child.stdout! }).once('line', () => resolve(child));
  });
}

const killed = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });

gate.describe('three queen processes on one PostgreSQL, one killed with -9 every few seconds', () => {
  it('every job ends, every join fires once, every accepted attempt ran its side effect once', async () => {
    const db = await gate.freshDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'myrmex-chaos-'));
    const effects = join(dir, 'effects');
    const queens: ChildProcess[] = [];
    // This process only submits and reads: no ant, so it runs nothing itself.
    const front = await Queen.open({ store: PostgresStore.open({ url: db.url }), ant: { capacity: 0 } });
    try {
      await front.start();
      const task = (name: string, join?: string[]) =>
        `  - task_type: ${name}\n    retry: 4\n${join ? `    ${JOIN_KEY}: [${join.join(', ')}]\n` : ''}    script: ['echo "{{.JobID}} ${name} {{.TaskRetry}}" >> ${effects}', 'sleep 0.1']\n`;
      await front.applyDefinition(`job_type: chaos\ntasks:\n${task('a')}${task('b', ['a'])}${task('c', ['a'])}${task('d', ['b', 'c'])}`);
      queens.push(...(await Promise.all([0, 1, 2].map(() => startQueenProcess(db.url)))));
      const ids: string[] = [];
      for (let i = 0; i < JOBS; i++) ids.push((await front.submit({ jobType: 'chaos' })).id);

      for (let k = 0; k < KILLS; k++) {
        await new Promise((resolve) => setTimeout(resolve, 1500));
        const victim = k % queens.length;
        await killed(queens[victim]!);
        queens[victim] = await startQueenProcess(db.url);
      }

      const deadline = Date.now() + 90_000;
      let jobs: JobDetail[] = [];
      for (;;) {
        jobs = (await Promise.all(ids.map((id) => front.getJob(id)))) as JobDetail[];
        if (jobs.every((job) => isTerminalJob(job.state))) break;
        if (Date.now() > deadline)
          throw new Error(
            `not ended: ${jobs
              .filter((j) => !isTerminalJob(j.state))
              .map((j) => j.state)
              .join(',')}`,
          );
        await new Promise((resolve) => setTimeout(resolve, 100));
      }

      const lines = existsSync(effects) ? readFileSync(effects, 'utf8').split('\n').filter(Boolean) : [];
      // No attempt ran twice: each token (job, task, attempt) appears at most once.
      expect(new Set(lines).size).toBe(lines.length);
      for (const job of jobs) {
        expect(job.state).toBe('COMPLETED');
        // The join fires once (PENDING -> READY); a retry of d after a killed queen is READY again from EXECUTING.
        expect(job.timeline.filter((e) => e.taskType === 'd' && e.from === 'PENDING' && e.to === 'READY')).toHaveLength(1);
        for (const t of job.tasks) {
          const accepted = t.attempts.filter((a) => a.state === 'COMPLETED');
          expect(accepted).toHaveLength(1);
          // The accepted attempt's side effect happened, exactly once.
          expect(lines.filter((l) => l === `${job.id} ${t.taskType} ${accepted[0]!.attempt - 1}`)).toHaveLength(1);
          for (const a of t.attempts.filter((x) => x.state === 'FAILED')) expect(a.reason).toMatch(/^queen restarted/);
        }
      }
    } finally {
      await Promise.all(queens.map(killed));
      await front.stop();
      await db.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 170_000);
});

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { isTerminalJob, type JobDetail, type Queen } from '@myrmex/orchestrator';
import { expect } from 'vitest';
import { JOIN_KEY } from '../engine/definitions.js';

/**
 * What the multi-queen process tests share: queen processes on one PostgreSQL (queen-server.ts), a
 * diamond job with a join whose every task appends its attempt token to a file, and the check that
 * nothing was dropped or run twice.
 */

const here = dirname(fileURLToPath(import.meta.url));

/** Starts a queen process on `url`; resolves once it schedules. */
export function startQueenProcess(url: string): Promise<ChildProcess> {
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

/** Sends `signal` and resolves with the exit code once the process is gone. */
export function stopped(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
    child.kill(signal);
  });
}

/** a -> (b, c) -> d, d joining b and c; each task appends `job task attempt-1` to `effects`, then takes 0.1 s. */
export function diamondDefinition(jobType: string, effects: string): string {
  const task = (name: string, join?: string[]) =>
    `  - task_type: ${name}\n    retry: 4\n${join ? `    ${JOIN_KEY}: [${join.join(', ')}]\n` : ''}    script: ['echo "{{.JobID}} ${name} {{.TaskRetry}}" >> ${effects}', 'sleep 0.1']\n`;
  return `job_type: ${jobType}\ntasks:\n${task('a')}${task('b', ['a'])}${task('c', ['a'])}${task('d', ['b', 'c'])}`;
}

/** Reads the jobs until every one has ended, or fails after `timeoutMs` naming the states still open. */
export async function allEnded(front: Queen, ids: readonly string[], timeoutMs: number): Promise<JobDetail[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const jobs = (await Promise.all(ids.map((id) => front.getJob(id)))) as JobDetail[];
    if (jobs.every((job) => isTerminalJob(job.state))) return jobs;
    if (Date.now() > deadline) {
      const open = jobs.filter((j) => !isTerminalJob(j.state)).map((j) => `${j.id} ${j.state}`);
      throw new Error(`${open.length} jobs not ended after ${timeoutMs} ms: ${open.slice(0, 10).join(', ')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Every job COMPLETED, its join fired once, each task accepted once, and the accepted attempt's side
 * effect written exactly once; no attempt token written twice; a failed attempt failed for `failedReason`.
 */
export function expectNothingDroppedOrRepeated(jobs: readonly JobDetail[], effects: string, failedReason: RegExp): void {
  const lines = existsSync(effects) ? readFileSync(effects, 'utf8').split('\n').filter(Boolean) : [];
  expect(new Set(lines).size).toBe(lines.length);
  for (const job of jobs) {
    expect(job.state).toBe('COMPLETED');
    // The join fires once (PENDING -> READY); a retry of d after a lost queen is READY again from EXECUTING.
    expect(job.timeline.filter((e) => e.taskType === 'd' && e.from === 'PENDING' && e.to === 'READY')).toHaveLength(1);
    for (const t of job.tasks) {
      const accepted = t.attempts.filter((a) => a.state === 'COMPLETED');
      expect(accepted).toHaveLength(1);
      expect(lines.filter((l) => l === `${job.id} ${t.taskType} ${accepted[0]!.attempt - 1}`)).toHaveLength(1);
      for (const a of t.attempts.filter((x) => x.state === 'FAILED')) expect(a.reason).toMatch(failedReason);
    }
  }
}

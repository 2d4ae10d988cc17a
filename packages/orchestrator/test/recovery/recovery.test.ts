import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type JobDetail, Queen, TERMINAL_JOB_STATES } from '@myrmex/orchestrator';
import { afterAll, describe, expect, it } from 'vitest';
import { childJobId } from '../../src/queen/forks.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { isAlive, waitUntil } from '../executors/processes.js';

const here = dirname(fileURLToPath(import.meta.url));
const packageRoot = join(here, '..', '..');
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Line {
  readonly event: string;
  readonly id?: string;
  readonly jobId?: string;
  readonly taskType?: string;
  readonly to?: string;
}

/** Starts the queen process and resolves once `killWhen` sees a line; then kills it with SIGKILL. */
async function runAndKill(
  dbPath: string,
  count: number,
  jobType: string,
  params: object,
  killWhen: (line: Line | undefined, seen: Line[]) => boolean,
) {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', join(here, 'queen-process.ts'), dbPath, String(count), jobType, JSON.stringify(params)],
    { cwd: packageRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MYRMEX_LOG_LEVEL: 'silent' } },
  );
  const seen: Line[] = [];
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  const killed = await new Promise<boolean>((resolve) => {
    const check = (line: Line | undefined) => {
      if (child.killed || !killWhen(line, seen)) return;
      clearInterval(poll);
      child.kill('SIGKILL');
      resolve(true);
    };
    // Also checked on a timer: the moment may come from files the tasks write, not from a line.
    const poll = setInterval(() => check(undefined), 25);
    createInterface({ input: child.stdout! }).on('line', (text) => {
      const line = JSON.parse(text) as Line;
      seen.push(line);
      check(line);
    });
    void exited.then(() => {
      clearInterval(poll);
      resolve(false);
    });
  });
  const signal = await exited;
  if (!killed || signal !== 'SIGKILL') throw new Error(`queen process ended before the kill (signal ${signal}): ${stderr}`);
  return { submitted: seen.filter((l) => l.event === 'submitted').map((l) => l.id!), seen };
}

async function restartAndFinish(dbPath: string, ids: readonly string[]): Promise<JobDetail[]> {
  const queen = await Queen.open({ dbPath, ant: { capacity: 4 }, pollIntervalMs: 50, shell: { killGraceMs: 300 } });
  await queen.start();
  try {
    const end = Date.now() + 30_000;
    for (;;) {
      const jobs = await Promise.all(ids.map((id) => queen.getJob(id)));
      if (jobs.every((job) => job && TERMINAL_JOB_STATES.includes(job.state))) return jobs as JobDetail[];
      if (Date.now() > end) throw new Error(`jobs not terminal: ${jobs.map((j) => `${j?.id}:${j?.state}`).join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    await queen.stop();
  }
}

function workspace() {
  const dir = mkdtempSync(join(tmpdir(), 'myrmex-recovery-'));
  dirs.push(dir);
  return { dbPath: join(dir, 'myrmex.db'), flag: join(dir, 'flag'), pids: join(dir, 'pids') };
}

/** Terminal, and every failure is one the crash explains: an attempt cut off by it. */
function expectExplained(job: JobDetail): void {
  expect(TERMINAL_JOB_STATES).toContain(job.state);
  for (const task of job.tasks) {
    expect(['COMPLETED', 'FAILED', 'SKIPPED']).toContain(task.state);
    if (task.state === 'FAILED') expect(task.reason).toBe('queen restarted');
    for (const attempt of task.attempts) {
      expect(attempt.state).not.toBe('EXECUTING');
      if (attempt.state === 'FAILED') expect(attempt.reason).toMatch(/^queen restarted/);
    }
  }
  if (job.state === 'FAILED') expect(job.reason).toMatch(/failed: queen restarted$/);
}

const pidsIn = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split(/\s+/).filter(Boolean).map(Number) : []);

describe('crash safety: kill -9 the queen process and start again on the same database', () => {
  it('retries a task that was running if it has retries left, otherwise fails it with "queen restarted"; no orphans remain', async () => {
    const { dbPath, flag, pids } = workspace();
    // Kill once both long tasks run (each has written its shell pid, long-once also its sleep's).
    const { submitted } = await runAndKill(dbPath, 2, 'crashy', { flag, pids }, () => pidsIn(pids).length >= 6);
    expect(submitted).toHaveLength(2);
    const orphans = pidsIn(pids);
    expect(orphans.some(isAlive)).toBe(true);
    writeFileSync(flag, '');
    const jobs = await restartAndFinish(dbPath, submitted);
    for (const job of jobs) {
      const tasks = Object.fromEntries(job.tasks.map((t) => [t.taskType, t]));
      expect(job.state).toBe('FAILED');
      expect(job.reason).toBe('task long-once failed: queen restarted');
      expect(tasks['long-once']).toMatchObject({ state: 'FAILED', reason: 'queen restarted' });
      expect(tasks['long-once']!.attempts.map((a) => [a.state, a.reason])).toEqual([['FAILED', 'queen restarted']]);
      expect(tasks['long-retry']!.state).toBe('COMPLETED');
      expect(tasks['long-retry']!.attempts.map((a) => [a.state, a.reason])).toEqual([
        ['FAILED', 'queen restarted; retry 1 of 1 in 0s'],
        ['COMPLETED', 'exit code 0'],
      ]);
      expect(tasks.after!.state).toBe('COMPLETED');
      expect(tasks.report!.state).toBe('COMPLETED');
      expect(tasks.cleanup!.state).toBe('COMPLETED');
      expect(job.timeline.at(-1)).toMatchObject({ to: 'FAILED' });
    }
    expect(await waitUntil(() => orphans.every((pid) => !isAlive(pid)))).toBe(true);
  });

  it('a job fan-out killed mid-way neither loses nor duplicates a child: the re-run finds the children made and forks the rest', async () => {
    const { dbPath, flag } = workspace();
    // Kill once the first two children (max_parallel: 2) run; the third is not forked yet.
    const running = (seen: Line[]) => seen.filter((l) => l.taskType === 'work' && l.to === 'EXECUTING').length;
    const { submitted } = await runAndKill(dbPath, 1, 'fanned', { flag }, (_, seen) => running(seen) >= 2);
    const [parent] = submitted;
    const children = [0, 1, 2].map((index) => childJobId(parent!, `fan[${index}]`, 0));
    writeFileSync(flag, '');
    const [job, ...kids] = await restartAndFinish(dbPath, [parent!, ...children]);
    expect(job!.state).toBe('COMPLETED');
    expect(job!.tasks[0]!.attempts.map((a) => [a.state, a.reason])).toEqual([
      ['FAILED', 'queen restarted; retry 1 of 1 in 0s'],
      ['COMPLETED', 'exit code 0'],
    ]);
    expect(kids.map((kid) => [kid.state, kid.params.item])).toEqual([
      ['COMPLETED', 'a'],
      ['COMPLETED', 'b'],
      ['COMPLETED', 'c'],
    ]);
    // The children cut off by the kill ran again as tasks of the same jobs; no second job was made.
    expect(kids[0]!.tasks[0]!.attempts.map((a) => a.state)).toEqual(['FAILED', 'COMPLETED']);
    const store = SqliteStore.open({ path: dbPath });
    try {
      expect((await store.listJobs({ jobType: 'fan-child', limit: 100 })).items.map((j) => j.id).sort()).toEqual([...children].sort());
    } finally {
      await store.close();
    }
  });

  it('loses nothing when killed right after the first submission: every submitted job runs to the end', async () => {
    const { dbPath, flag, pids } = workspace();
    writeFileSync(flag, '');
    const { submitted } = await runAndKill(dbPath, 5, 'crashy', { flag, pids }, (line) => line?.event === 'submitted');
    expect(submitted.length).toBeGreaterThanOrEqual(1);
    const jobs = await restartAndFinish(dbPath, submitted);
    for (const job of jobs) expectExplained(job);
  });

  it('with many short jobs in flight, every job ends and every failure is explained', async () => {
    const { dbPath } = workspace();
    const { submitted, seen } = await runAndKill(
      dbPath,
      12,
      'quick',
      {},
      (line, all) => line?.event === 'transition' && line.to === 'COMPLETED' && all.filter((l) => l.to === 'COMPLETED').length >= 8,
    );
    expect(submitted.length).toBeGreaterThanOrEqual(1);
    expect(seen.some((l) => l.event === 'transition' && l.to === 'EXECUTING')).toBe(true);
    const jobs = await restartAndFinish(dbPath, submitted);
    for (const job of jobs) expectExplained(job);
  });
});

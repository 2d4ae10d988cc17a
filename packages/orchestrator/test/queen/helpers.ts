import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Executor, type JobDetail, Queen, type QueenOptions, TERMINAL_JOB_STATES } from '@myrmex/orchestrator';
import { afterAll, afterEach } from 'vitest';
import { TEST_METHODS } from '../engine/definitions.js';

export { TEST_METHODS };

/** Concurrency seen by the TEST executor, per key (the task's `KEY` environment variable, or all). */
export class Meter {
  private readonly current = new Map<string, number>();
  readonly max = new Map<string, number>();
  readonly order: string[] = [];

  enter(key: string): void {
    const n = (this.current.get(key) ?? 0) + 1;
    this.current.set(key, n);
    this.max.set(key, Math.max(this.max.get(key) ?? 0, n));
  }

  leave(key: string): void {
    this.current.set(key, (this.current.get(key) ?? 1) - 1);
  }
}

/**
 * An in-process method for fast engine tests. Script lines: `sleep MS`, `exit CODE`,
 * `exits C1,C2,...` (exit code by attempt number), `out KEY VALUE`, `log TEXT`.
 */
export function testExecutor(meter = new Meter()): Executor {
  return {
    method: 'TEST',
    async execute(context) {
      const keys = ['*', context.spec.environment.KEY ?? context.taskType];
      for (const key of keys) meter.enter(key);
      meter.order.push(`${context.jobId}/${context.taskType}`);
      try {
        let exitCode = 0;
        for (const line of context.spec.script) {
          const [command, ...rest] = line.split(' ');
          const arg = rest.join(' ');
          if (command === 'sleep') {
            const stopped = await new Promise<boolean>((resolve) => {
              const timer = setTimeout(() => resolve(false), Number(arg));
              context.signal.addEventListener('abort', () => {
                clearTimeout(timer);
                resolve(true);
              });
            });
            if (stopped) return { succeeded: false, error: String(context.signal.reason) };
          } else if (command === 'exit') exitCode = Number(arg);
          else if (command === 'exits') exitCode = Number(arg.split(',')[context.attempt - 1] ?? arg.split(',').at(-1));
          else if (command === 'out') context.output(rest[0]!, rest.slice(1).join(' '));
          else if (command === 'log') context.log('stdout', arg, new Date());
        }
        return { exitCode, succeeded: exitCode === 0 };
      } finally {
        for (const key of keys) meter.leave(key);
      }
    },
  };
}

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

export function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), 'myrmex-queen-'));
  dirs.push(dir);
  return join(dir, 'myrmex.db');
}

const open: Queen[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((q) => q.stop()));
});

/** A started queen on a fresh db file with the TEST executor; stopped after each test. */
export async function startQueen(options: Partial<QueenOptions> & { meter?: Meter } = {}): Promise<Queen> {
  const queen = await Queen.open({
    dbPath: options.dbPath ?? tempDb(),
    ant: { capacity: 4 },
    pollIntervalMs: 50,
    shutdownGraceMs: 2000,
    shell: { killGraceMs: 300 },
    ...options,
    executors: [testExecutor(options.meter), ...(options.executors ?? [])],
  });
  open.push(queen);
  await queen.start();
  return queen;
}

/** Waits until the job is terminal, then returns its detail. */
export async function finished(queen: Queen, id: string, timeoutMs = 20_000): Promise<JobDetail> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const job = await queen.getJob(id);
    if (job && TERMINAL_JOB_STATES.includes(job.state)) return job;
    if (Date.now() > end)
      throw new Error(
        `job ${id} still ${job?.state} after ${timeoutMs}ms: ${JSON.stringify(job?.tasks.map((t) => [t.taskType, t.state]))}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export async function until<T>(probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A definition as JSON text (JSON is YAML): tasks default to the TEST method. */
export function source(jobType: string, tasks: readonly Record<string, unknown>[], job: Record<string, unknown> = {}): string {
  return JSON.stringify({ job_type: jobType, ...job, tasks: tasks.map((task) => ({ method: 'TEST', ...task })) });
}

export const taskStates = (job: JobDetail) => Object.fromEntries(job.tasks.map((t) => [t.taskType, t.state]));

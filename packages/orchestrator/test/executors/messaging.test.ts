import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { freshEach, nats } from '@myrmex/test-utils';
import { afterEach, expect, it } from 'vitest';
import { createMessagingExecutor } from '../../src/executors/messaging.js';
import { run, spec } from './run.js';

const gate = await nats();

gate.describe('MESSAGING over NATS JetStream with an external worker process', () => {
  const fresh = freshEach(() => gate.freshPrefix());
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
  });
  const servers = () => new URL(fresh.current.url).host;

  async function startWorker(subject: string): Promise<void> {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('./messaging-worker.ts', import.meta.url)), servers(), subject],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    children.push(child);
    const lines = createInterface({ input: child.stdout! });
    await new Promise<void>((resolve, reject) => {
      lines.on('line', (line) => line === 'ready' && resolve());
      child.on('exit', (code) => reject(new Error(`worker exited with ${code}`)));
    });
  }

  it('hands the task to the worker and takes its reply: exit code, outputs and logs', async () => {
    const subject = `${fresh.current.prefix}.requests`;
    await startWorker(subject);
    const executor = createMessagingExecutor({ servers: servers() });
    try {
      const done = await run(executor, {
        ...spec({ method: 'MESSAGING', environment: { WHO: 'ant' }, timeoutMs: 20_000 }),
        messaging: { requestQueue: subject },
      });
      expect(done.result).toEqual({ exitCode: 0, succeeded: true });
      expect(done.outputs).toEqual({ Greeting: 'hello ant' });
      expect(done.logs.map((line) => line.text)).toContain('worked on task attempt 1');
    } finally {
      await executor.close();
    }
  });

  it('a worker failure is the exit code; no worker means a timeout that names the reply subject', async () => {
    const subject = `${fresh.current.prefix}.requests`;
    await startWorker(subject);
    const executor = createMessagingExecutor({ servers: servers() });
    try {
      const failing = await executor.execute({
        jobId: 'job',
        taskType: 'fail',
        attempt: 2,
        spec: { ...spec({ method: 'MESSAGING', timeoutMs: 20_000 }), messaging: { requestQueue: subject } },
        signal: new AbortController().signal,
        log: () => undefined,
        output: () => undefined,
        started: () => undefined,
      });
      expect(failing).toEqual({ exitCode: 3, succeeded: false });
      const lonely = await run(executor, {
        ...spec({ method: 'MESSAGING', timeoutMs: 300 }),
        messaging: { requestQueue: `${fresh.current.prefix}.nobody` },
      });
      expect(lonely.result.succeeded).toBe(false);
      expect(lonely.result.error).toMatch(/^no reply on .*\.nobody\.reply\.job\.task\.1 within 300ms$/);
    } finally {
      await executor.close();
    }
  });
});

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * `myrmex serve --log-format pretty` as a real child process (the built binary): pino-pretty lines,
 * not JSON, with every field of each entry (job and task ids included) under its message.
 */

const bin = fileURLToPath(new URL('../bin/myrmex.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'myrmex-pretty-'));
let server: ChildProcess | undefined;

afterAll(async () => {
  if (server && server.exitCode === null) {
    server.kill('SIGKILL');
    await new Promise((resolve) => server?.once('exit', resolve));
  }
  rmSync(dir, { recursive: true, force: true });
});

const HELLO = `job_type: pretty-hello
tasks:
  - task_type: greet
    script: [echo hello]
`;

describe('myrmex serve --log-format pretty', { timeout: 90_000 }, () => {
  it('logs pino-pretty entries with the job and task ids as fields, and stops on SIGINT', async () => {
    for (const pkg of ['cli', 'orchestrator']) {
      if (!existsSync(fileURLToPath(new URL(`../../${pkg}/dist/index.js`, import.meta.url)))) {
        throw new Error(`packages/${pkg}/dist is missing: run \`npm run build\` first (this test runs the built binary)`);
      }
    }
    const child = spawn(process.execPath, [bin, 'serve', '--port', '0', '--db', join(dir, 'queen.db'), '--log-format', 'pretty'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, MYRMEX_AUTH: 'off' },
    });
    server = child;
    let out = '';
    const waiters: { test: () => boolean; done: () => void }[] = [];
    const until = (test: () => boolean, what: string) =>
      new Promise<void>((resolve, reject) => {
        if (test()) return resolve();
        waiters.push({ test, done: resolve });
        child.once('exit', (code) => reject(new Error(`serve exited with ${code} before ${what}:\n${out}`)));
      });
    const onData = (chunk: Buffer) => {
      out += String(chunk);
      for (const waiter of waiters.splice(0)) (waiter.test() ? waiter.done : () => waiters.push(waiter))();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);

    await until(() => /listening on http:\/\/[\d.:]+/.test(out), 'the listening line');
    const url = /listening on (http:\/\/[\d.:]+)/.exec(out)?.[1] as string;
    const applied = await fetch(`${url}/api/jobs/definitions`, { method: 'POST', headers: { 'content-type': 'text/yaml' }, body: HELLO });
    expect(applied.status).toBeLessThan(300);
    const submitted = await fetch(`${url}/api/jobs/requests`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ job_type: 'pretty-hello' }),
    });
    const job = (await submitted.json()) as { id: string };
    await until(() => out.includes(`job ${job.id} EXECUTING -> COMPLETED`), 'the job completing');

    const lines = out.split('\n').filter((line) => line.trim() !== '');
    expect(lines.filter((line) => line.startsWith('{'))).toEqual([]);
    // Each entry starts `[HH:MM:SS.mmm] LEVEL (…): message`; its fields follow, indented, one a line.
    expect(lines[0]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] (INFO|WARN)/);
    const taskLine = lines.findIndex((line) => /INFO.*: task greet of job \S+ READY -> EXECUTING/.test(line));
    expect(taskLine).toBeGreaterThanOrEqual(0);
    const fields = lines.slice(taskLine + 1, taskLine + 8).join('\n');
    expect(fields).toContain(`jobId: "${job.id}"`);
    expect(fields).toContain('taskType: "greet"');
    expect(fields).toMatch(/component: "jobs"/);

    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
    expect(out).toMatch(/INFO.*: myrmex queen stopped/);
  });
});

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createShellExecutor } from '@myrmex/orchestrator';
import { afterAll, describe, expect, it } from 'vitest';
import { isAlive, waitUntil } from './processes.js';
import { run, spec } from './run.js';

const dir = mkdtempSync(join(tmpdir(), 'myrmex-shell-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const shell = createShellExecutor({ killGraceMs: 300 });
const sh = (script: string[], fields: Record<string, unknown> = {}) => spec({ method: 'SHELL', script, ...fields });
const pidsIn = (file: string) => readFileSync(file, 'utf8').split(/\s+/).filter(Boolean).map(Number);

describe('SHELL executor', () => {
  it('runs the lines with sh -e: stops at the first failing line and keeps its exit code', async () => {
    const { result, logs } = await run(shell, sh(['echo one', 'sh -c "exit 7"', 'echo never']));
    expect(result).toEqual({ exitCode: 7, succeeded: false, cpuMs: expect.any(Number) });
    expect(logs.filter((l) => l.stream === 'stdout').map((l) => l.text)).toEqual(['one']);
  });

  it('succeeds with exit code 0 and streams stdout and stderr line by line with timestamps', async () => {
    const before = Date.now();
    const { result, logs } = await run(shell, sh(['echo out1', 'echo err1 >&2', 'sleep 0.05', 'printf "out2\\nout3"']));
    expect(result).toEqual({ exitCode: 0, succeeded: true, cpuMs: expect.any(Number) });
    expect(logs.filter((l) => l.stream === 'stdout').map((l) => l.text)).toEqual(['out1', 'out2', 'out3']);
    expect(logs.filter((l) => l.stream === 'stderr').map((l) => l.text)).toEqual(['err1']);
    for (const line of logs) expect(line.at.getTime()).toBeGreaterThanOrEqual(before);
    const out = logs.filter((l) => l.stream === 'stdout');
    // Stamped when the queen reads each line: under load two lines may be read in one turn, so only order is certain.
    expect(out[1]!.at.getTime()).toBeGreaterThanOrEqual(out[0]!.at.getTime());
  });

  it('runs no line until the process group is recorded: if recording fails, the script never runs and the group dies', async () => {
    const marker = join(dir, 'ran-unrecorded');
    const pids: number[] = [];
    const attempt = shell.execute({
      jobId: 'job',
      taskType: 'task',
      attempt: 1,
      spec: sh([`touch ${marker}`]),
      signal: new AbortController().signal,
      log: () => undefined,
      output: () => undefined,
      started: (pid) => {
        pids.push(pid);
        throw new Error('ledger unwritable');
      },
    });
    await expect(attempt).rejects.toThrow('ledger unwritable');
    expect(await waitUntil(() => !isAlive(pids[0]!))).toBe(true);
    expect(existsSync(marker)).toBe(false);
  });

  it("gives the script an empty stdin and the shell's line numbers of the script itself", async () => {
    const { result, logs } = await run(
      shell,
      sh(['if read -r line; then echo "read $line"; else echo no-input; fi', 'no-such-command-xyz']),
    );
    expect(result.succeeded).toBe(false);
    expect(logs.filter((l) => l.stream === 'stdout').map((l) => l.text)).toEqual(['no-input']);
    expect(
      logs
        .filter((l) => l.stream === 'stderr')
        .map((l) => l.text)
        .join('\n'),
    ).toMatch(/\b2: no-such-command-xyz/);
  });

  it('merges the task environment over the process environment', async () => {
    const { logs } = await run(
      shell,
      sh(['echo "$GREETING $WHO"', 'command -v sh >/dev/null && echo has-path'], { environment: { GREETING: 'hi', WHO: 'ants' } }),
    );
    expect(logs.map((l) => l.text)).toEqual(['hi ants', 'has-path']);
  });

  it('publishes ::set-output lines as outputs, last value wins', async () => {
    const { outputs, logs } = await run(
      shell,
      sh([
        'echo "::set-output name=VERSION::1.2.3"',
        'echo "::set-output name=N::1"',
        'echo "::set-output name=N::2"',
        'echo "::set-output name=bad key::x"',
      ]),
    );
    expect(outputs).toEqual({ VERSION: '1.2.3', N: '2' });
    expect(logs).toHaveLength(4);
  });

  it('reports a death by signal as 128 + signal number', async () => {
    const { result } = await run(shell, sh(['kill -9 $$']));
    expect(result).toMatchObject({ exitCode: 137, succeeded: false, error: 'killed by SIGKILL' });
  });

  it('kills the whole process group on timeout, including background children', async () => {
    const pidFile = join(dir, 'timeout.pids');
    const { result, pids, ms } = await run(
      shell,
      sh([`sleep 30 & echo $! > ${pidFile}`, `sleep 30 & echo $! >> ${pidFile}`, 'wait'], { timeoutMs: 300 }),
    );
    expect(result).toEqual({ succeeded: false, error: 'timed out after 300ms', cpuMs: expect.any(Number) });
    expect(ms).toBeLessThan(5000);
    const children = pidsIn(pidFile);
    expect(children).toHaveLength(2);
    expect(await waitUntil(() => [...children, ...pids].every((pid) => !isAlive(pid)))).toBe(true);
  });

  it('escalates to SIGKILL when the group ignores SIGTERM', async () => {
    const pidFile = join(dir, 'stubborn.pids');
    const controller = new AbortController();
    const running = run(shell, sh(["trap '' TERM", `sleep 30 & echo $! > ${pidFile}`, 'wait'], {}), controller.signal);
    await waitUntil(() => {
      try {
        return pidsIn(pidFile).length === 1;
      } catch {
        return false;
      }
    });
    const cancelledAt = performance.now();
    controller.abort('job cancelled');
    const { result, logs } = await running;
    expect(performance.now() - cancelledAt).toBeGreaterThanOrEqual(250);
    expect(result).toEqual({ succeeded: false, error: 'job cancelled' });
    expect(logs.some((l) => l.stream === 'system' && l.text.includes('job cancelled'))).toBe(true);
    expect(await waitUntil(() => !isAlive(pidsIn(pidFile)[0]!))).toBe(true);
  });

  it('kills what a finished script left running in the background', async () => {
    const pidFile = join(dir, 'leftover.pids');
    const { result, ms } = await run(
      shell,
      sh([`sleep 30 > /dev/null 2>&1 & echo $! > ${pidFile}`, `sleep 30 & echo $! >> ${pidFile}`, 'echo done']),
    );
    expect(result).toEqual({ exitCode: 0, succeeded: true, cpuMs: expect.any(Number) });
    expect(ms).toBeLessThan(5000);
    expect(await waitUntil(() => pidsIn(pidFile).every((pid) => !isAlive(pid)))).toBe(true);
  });

  it('bounds very long lines and notes the cut', async () => {
    const small = createShellExecutor({ maxLineBytes: 10 });
    const { logs } = await run(small, sh(['echo 0123456789ABCDEF']));
    expect(logs[0]!.text).toBe('0123456789 [line truncated]');
  });

  it('does not start when already cancelled, and reports a shell that cannot start', async () => {
    const controller = new AbortController();
    controller.abort('job cancelled');
    expect((await run(shell, sh(['echo hi']), controller.signal)).result).toEqual({ succeeded: false, error: 'job cancelled' });
    const missing = createShellExecutor({ shell: join(dir, 'no-such-shell') });
    const { result } = await run(missing, sh(['echo hi']));
    expect(result.succeeded).toBe(false);
    expect(result.error).toMatch(/could not start .*no-such-shell/);
  });
});

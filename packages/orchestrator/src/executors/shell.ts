import { spawn } from 'node:child_process';
import { chownSync } from 'node:fs';
import { constants } from 'node:os';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { parseSetOutput } from '../definition/index.js';
import type { AttemptResult } from '../domain/types.js';
import { parseTaskUser, type TaskUser, taskEnvironment } from '../security/index.js';
import { CPU_TIMES_FD, CPU_WRAPPER, MAX_TIMES_TEXT, parseChildTimes } from './cpu-time.js';
import { abortGraceMs, abortReason, bounded, type ExecutionContext, type Executor } from './executor.js';

export interface ShellExecutorOptions {
  /** Between SIGTERM and SIGKILL when a task is stopped. */
  readonly killGraceMs?: number;
  /** Longer lines are cut (and the cut is noted). */
  readonly maxLineBytes?: number;
  readonly shell?: string;
  /**
   * Who tasks run as (issue 17). Default: MYRMEX_TASK_USER (`uid[:gid]`) when this process is root;
   * otherwise this process's own user. The task's working directory is handed to that user.
   */
  readonly runAs?: TaskUser;
}

/** Sends `signal` to a whole process group; false when the group is already gone. */
export function killProcessGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Blocks until the executor says go; EOF (the ant died first) exits. Then stdin is /dev/null, as tasks always had. */
const GO_READ = 'read -r _ || exit 111; exec </dev/null; ';

/**
 * SHELL: the script lines run by one `sh -e -c` in a new process group (detached), so a timeout
 * or cancel kills everything the script started, not just the shell. The result carries the CPU
 * time the script's processes used (`cpuMs`), when the wrapper could report it.
 */
export function createShellExecutor(options: ShellExecutorOptions = {}): Executor {
  const killGraceMs = options.killGraceMs ?? 2000;
  const maxLineBytes = options.maxLineBytes ?? 64 * 1024;
  const shell = options.shell ?? 'sh';
  const runAs =
    options.runAs ?? (process.getuid?.() === 0 && process.env.MYRMEX_TASK_USER ? parseTaskUser(process.env.MYRMEX_TASK_USER) : undefined);

  return {
    method: 'SHELL',
    execute: (context) => runShell(context, { killGraceMs, maxLineBytes, shell, ...(runAs && { runAs }) }),
  };
}

function runShell(
  context: ExecutionContext,
  options: Required<Omit<ShellExecutorOptions, 'runAs'>> & Pick<ShellExecutorOptions, 'runAs'>,
): Promise<AttemptResult> {
  const { spec, signal } = context;
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve({ succeeded: false, error: abortReason(signal) });
      return;
    }
    if (options.runAs && context.workdir !== undefined) chownSync(context.workdir, options.runAs.uid, options.runAs.gid);
    // The shell waits for a line on stdin before the script runs, and the line is sent only once the
    // process group is in the ant's ledger: an ant killed between spawn and that write (a wide window
    // on a loaded machine) leaves a shell that reads EOF and exits, never an unrecorded orphan.
    // On the script's first line, so the shell's line numbers in error messages stay the script's own.
    const script = `${GO_READ}${spec.script.join('\n')}`;
    // Under the CPU wrapper (cpu-time.ts), which writes the task's CPU time to descriptor 3 once it ends.
    const child = spawn(options.shell, ['-c', CPU_WRAPPER, options.shell, script], {
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
      // The queen's keyring, pepper and store URLs stay out of tasks.
      env: { ...taskEnvironment(process.env), ...spec.environment },
      ...(options.runAs && { uid: options.runAs.uid, gid: options.runAs.gid }),
      ...(context.workdir === undefined ? {} : { cwd: context.workdir }),
    });
    let stopped: string | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const stop = (why: string, graceMs = options.killGraceMs) => {
      if (stopped !== undefined || child.pid === undefined) return;
      stopped = why;
      context.log('system', `stopping process group ${child.pid}: ${why}`, new Date());
      killProcessGroup(child.pid, 'SIGTERM');
      killTimer = setTimeout(() => killProcessGroup(child.pid!, 'SIGKILL'), graceMs);
      killTimer.unref();
    };
    const onAbort = () => stop(abortReason(signal), abortGraceMs(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    const timeout =
      spec.timeoutMs === undefined ? undefined : setTimeout(() => stop(`timed out after ${spec.timeoutMs}ms`), spec.timeoutMs);

    const pump = (stream: Readable, name: 'stdout' | 'stderr') =>
      new Promise<void>((done) => {
        const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
        lines.on('line', (line) => {
          const at = new Date();
          const kept = bounded(line, options.maxLineBytes);
          context.log(name, kept.truncated ? `${kept.text} [line truncated]` : kept.text, at);
          if (name === 'stdout') {
            const output = parseSetOutput(kept.text);
            if (output) context.output(output.key, output.value);
          }
        });
        lines.on('close', done);
      });
    let times = '';
    const timed = new Promise<void>((done) => {
      const stream = child.stdio[CPU_TIMES_FD] as Readable | null;
      if (stream === null || stream === undefined) return done();
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        // Two short lines; past the bound it is not the wrapper's alone, and nothing is believed.
        times = times.length + chunk.length > MAX_TIMES_TEXT ? ' '.repeat(MAX_TIMES_TEXT) : times + chunk;
      });
      stream.on('close', done);
      stream.on('error', () => done());
    });
    const pumped = Promise.all([pump(child.stdout, 'stdout'), pump(child.stderr, 'stderr'), timed]);
    child.stdin.on('error', () => undefined); // a shell that died at once: its exit is reported below
    if (child.pid !== undefined) {
      try {
        context.started(child.pid);
      } catch (error) {
        killProcessGroup(child.pid, 'SIGKILL');
        throw error;
      }
    }
    child.stdin.end('\n');

    let spawnError: Error | undefined;
    child.on('error', (error) => {
      spawnError = error;
    });
    // Whatever the script left running in its group dies with the attempt (it would also keep the
    // output pipes open and the attempt from ending).
    child.on('exit', () => {
      if (child.pid !== undefined) killProcessGroup(child.pid, 'SIGKILL');
    });
    child.on('close', (code, sig) => {
      void pumped.then(() => {
        clearTimeout(timeout);
        clearTimeout(killTimer);
        signal.removeEventListener('abort', onAbort);
        const cpuMs = parseChildTimes(times);
        const cpu = cpuMs === undefined ? {} : { cpuMs };
        if (spawnError) resolve({ succeeded: false, error: `could not start ${options.shell}: ${spawnError.message}` });
        else if (stopped !== undefined) resolve({ succeeded: false, error: stopped, ...cpu });
        else {
          const exitCode = code ?? 128 + (sig ? (constants.signals[sig] ?? 0) : 0);
          resolve({ exitCode, succeeded: exitCode === 0, ...(sig ? { error: `killed by ${sig}` } : {}), ...cpu });
        }
      });
    });
  });
}

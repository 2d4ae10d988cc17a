import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killProcessGroup } from '../executors/index.js';

/**
 * The process groups an ant's tasks run in, kept in a file on the ant's own machine: when an ant
 * dies with -9 its tasks' processes live on, and the next ant started on this machine kills them.
 * Process ids never travel through the store: only the machine that started a process can kill it.
 */
export class PidLedger {
  private readonly pids = new Set<number>();
  private readonly file: string;

  constructor(private readonly dir = join(tmpdir(), 'myrmex-ant-pids')) {
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, `${process.pid}.pids`);
  }

  add(pid: number): void {
    this.pids.add(pid);
    this.save();
  }

  remove(pid: number): void {
    if (this.pids.delete(pid)) this.save();
  }

  private save(): void {
    if (this.pids.size === 0) rmSync(this.file, { force: true });
    else writeFileSync(this.file, [...this.pids].join('\n'));
  }

  /** Kills the process groups left by ants whose process is gone; returns how many groups were signalled. */
  sweep(): number {
    let killed = 0;
    for (const name of readdirSync(this.dir)) {
      const owner = Number(name.replace(/\.pids$/, ''));
      if (!Number.isInteger(owner) || owner === process.pid || isRunning(owner)) continue;
      const path = join(this.dir, name);
      let text = '';
      try {
        text = readFileSync(path, 'utf8');
      } catch {
        continue;
      }
      for (const pid of text.split(/\s+/).filter(Boolean).map(Number)) {
        if (Number.isInteger(pid) && pid > 0 && killProcessGroup(pid, 'SIGKILL')) killed++;
      }
      rmSync(path, { force: true });
    }
    return killed;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

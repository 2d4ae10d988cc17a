import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type JobDetail, openStore, Queen, type RemoteAntOptions } from '@myrmex/orchestrator';
import { afterEach, beforeEach } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const packageDir = join(here, '..', '..', '..');
// One folder per test worker: workers bundling at once must not overwrite a file a child is loading.
const buildDir = join(packageDir, 'node_modules', '.cache', 'myrmex-ants', String(process.pid));

/**
 * The child scripts bundled once with the orchestrator's source (its dependencies stay external):
 * a bundled child starts in a fraction of the time tsx needs to transform the sources in every
 * process, which matters when a test starts a dozen ants and queens on a loaded 2-core box.
 */
const bundled = (async () => {
  const { build } = await import('esbuild');
  const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as Record<string, Record<string, string>>;
  const external = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies })
    .filter((name) => name !== '@myrmex/orchestrator')
    .flatMap((name) => [name, `${name}/*`]);
  await build({
    entryPoints: ['ant-process.ts', 'queen-process.ts'].map((f) => join(here, f)),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outdir: buildDir,
    outExtension: { '.js': '.mjs' },
    external,
    conditions: ['source'],
    logLevel: 'warning',
  });
})();

/** A child process whose stdout lines are kept, to wait on. */
export interface Proc {
  readonly child: ChildProcess;
  readonly lines: string[];
  /** Resolves with the first line (seen so far or later) matching `pattern`. */
  line(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Counts lines matching `pattern` seen so far. */
  count(pattern: RegExp): number;
  readonly exited: Promise<number | null>;
  kill9(): Promise<void>;
}

/** `ns`: a network namespace to run it in (`ip netns exec` execs node itself, so the pid is node's). */
async function start(script: string, arg: unknown, env: NodeJS.ProcessEnv = {}, ns?: string): Promise<Proc> {
  await bundled;
  const argv = [process.execPath, join(buildDir, script.replace(/\.ts$/, '.mjs')), JSON.stringify(arg)];
  const [command, ...args] = ns === undefined ? argv : ['ip', 'netns', 'exec', ns, ...argv];
  const child = spawn(command!, args, {
    cwd: packageDir,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, MYRMEX_LOG_LEVEL: process.env.MYRMEX_TEST_LOG_LEVEL ?? 'silent', ...env },
  });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    for (const w of [...waiters]) w();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    lines,
    exited,
    count: (pattern) => lines.filter((l) => pattern.test(l)).length,
    line: (pattern, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const found = lines.find((l) => pattern.test(l));
          if (found === undefined) return false;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(found);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`${script}: no line matching ${pattern} within ${timeoutMs} ms; got ${JSON.stringify(lines)}`));
        }, timeoutMs);
        if (!check()) {
          waiters.add(check);
          void exited.then((code) => {
            if (waiters.has(check) && !check()) {
              waiters.delete(check);
              clearTimeout(timer);
              reject(new Error(`${script} exited (${code}) before a line matching ${pattern}; got ${JSON.stringify(lines)}`));
            }
          });
        }
      }),
    kill9: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

export interface QueenProc extends Proc {
  readonly url: string;
  readonly id: string;
}

/** What queen-process.ts reads from its argv[2]. */
export interface QueenProcessOptions {
  db: string;
  tokens: string;
  leaseMs: number;
  port?: number;
  /** The address to listen on (default 127.0.0.1): a namespace's own address in the multi-host tests. */
  host?: string;
  /** PEM file paths: the queen serves HTTPS/WSS. */
  tls?: { cert: string; key: string };
  /** The queen's blob store folder (queens of one test share it). */
  artifactsDir?: string;
  maxArtifactBytes?: number;
}

export async function startQueen(options: QueenProcessOptions, ns?: string, env?: NodeJS.ProcessEnv): Promise<QueenProc> {
  const proc = await start('queen-process.ts', options, env, ns);
  const [, url = '', id = ''] = (await proc.line(/^ready /, 120_000)).split(' ');
  return { ...proc, url, id };
}

export function startAnt(
  options: Partial<RemoteAntOptions> & Pick<RemoteAntOptions, 'servers' | 'token' | 'id'>,
  ns?: string,
  env?: NodeJS.ProcessEnv,
): Promise<Proc> {
  return start('ant-process.ts', { capacity: 2, ...options }, env, ns);
}

/** Polls `probe` until it returns a value (conditions, not time: the interval only paces the polling). */
export async function until<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Per test: a temp folder, a SQLite store in it, and a queen that only submits and reads (no ant of its own). */
export interface FrontQueen {
  readonly dir: string;
  readonly db: string;
  readonly front: Queen;
  /** Processes a test started: killed -9 after it. */
  readonly procs: Proc[];
  finished(id: string): Promise<JobDetail>;
}

/** Registers the front queen's setup and teardown around each test of the calling file. */
export function useFrontQueen(prefix: string): FrontQueen {
  let dir = '';
  let queen: Queen | undefined;
  const procs: Proc[] = [];
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), prefix));
    queen = await Queen.open({ store: await openStore(join(dir, 'queen.db')), ant: { capacity: 0 }, pollIntervalMs: 50 });
    await queen.start();
  });
  afterEach(async () => {
    await Promise.all(procs.splice(0).map((p) => p.kill9()));
    await queen?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const fixture: FrontQueen = {
    get dir() {
      return dir;
    },
    get db() {
      return join(dir, 'queen.db');
    },
    get front() {
      if (!queen) throw new Error('the front queen exists only inside a test');
      return queen;
    },
    procs,
    finished: (id) =>
      until(async () => {
        const job = await fixture.front.getJob(id);
        return job && ['COMPLETED', 'FAILED', 'CANCELLED'].includes(job.state) ? job : undefined;
      }, `job ${id} to end`),
  };
  return fixture;
}

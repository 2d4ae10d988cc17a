import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const SERVER = join(ROOT, 'examples/idempotency/payments-server.mjs');
const PAY = join(ROOT, 'examples/idempotency/pay.mjs');

/** Runs the pay.mjs example to completion; resolves with its exit code and output. */
export function runPay(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [PAY, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The example imports the built package, so the tests that spawn it build it first. */
export function buildPackage(): void {
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-b', join(ROOT, 'packages/idempotency/tsconfig.json')], {
    stdio: 'inherit',
  });
}

export interface ServerProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything the process wrote to stdout and stderr. */
  output(): string;
  stop(): Promise<void>;
}

/** Starts payments-server.mjs on a free port and resolves once it listens. */
export function startServer(args: string[]): Promise<ServerProcess> {
  const child = spawn(process.execPath, [SERVER, '--port', '0', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`payments-server did not start within 60 s:\n${output}`));
    }, 60_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ url: match[1]!, child, output: () => output, stop });
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`payments-server exited with ${code} before listening:\n${output}`));
    });
  });
}

export function pay(url: string, key: string, body = '{"amount":1250,"currency":"EUR"}'): Promise<Response> {
  return fetch(`${url}/payments`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': key }, body });
}

export async function charges(url: string): Promise<number> {
  return ((await (await fetch(`${url}/payments/stats`)).json()) as { charges: number }).charges;
}

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { throwawayTls } from '@myrmex/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../bin/myrmex.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'myrmex-cli-ant-'));
const TOKEN = 'cli-ant-test-token-0123456789abcdef';
const env = { ...process.env, MYRMEX_AUTH: 'off', MYRMEX_ANT_TOKENS: TOKEN, MYRMEX_LOG_LEVEL: 'silent' };

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function myrmex(args: readonly string[], extra: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { env: { ...env, ...extra }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Resolves with the first line of `stream` matching `pattern`. */
function lineOf(stream: NodeJS.ReadableStream, pattern: RegExp, seen: string[]): Promise<string> {
  return new Promise((resolve) => {
    const found = seen.find((l) => pattern.test(l));
    if (found) return resolve(found);
    createInterface({ input: stream }).on('line', (line) => {
      seen.push(line);
      if (pattern.test(line)) resolve(line);
    });
  });
}

let server: ChildProcess;
let url = '';

beforeAll(async () => {
  if (!existsSync(fileURLToPath(new URL('../dist/index.js', import.meta.url)))) {
    throw new Error('packages/cli/dist is missing: run `npm run build` first (this test runs the built binary)');
  }
  server = spawn(process.execPath, [bin, 'serve', '--port', '0', '--db', join(dir, 'queen.db'), '--capacity', '0', '--json'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env,
  });
  const first = await lineOf(server.stdout!, /"url"/, []);
  url = (JSON.parse(first) as { url: string }).url;
}, 90_000);

afterAll(async () => {
  server.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('myrmex ant', () => {
  it('refuses bad settings before connecting, naming what is wrong (exit 2)', async () => {
    const none = await myrmex(['ant', '--token', TOKEN]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no queen to connect to/);
    const labels = await myrmex(['ant', '--server', url, '--token', TOKEN, '--labels', 'zone']);
    expect(labels.code).toBe(2);
    expect(labels.stderr).toMatch(/--labels: 'zone' is not key=value/);
    const refused = await myrmex(['ant', '--server', url, '--token', 'wrong-token-0123456789abcdef', '--state-dir', join(dir, 's0')]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/refused the ant token \(HTTP 401\)/);
  }, 120_000);

  it('connects, runs a job, shows in `myrmex ants`, and drains on `myrmex ants drain`', async () => {
    const config = join(dir, 'ant.yaml');
    writeFileSync(
      config,
      `servers: [${url}]\nid: cli-ant\ncapacity: 2\ntags: [linux]\nlabels: { zone: z1 }\nstate_dir: ${join(dir, 'state')}\n`,
    );
    const ant = spawn(process.execPath, [bin, 'ant', '--config', config, '--token', TOKEN], { stdio: ['ignore', 'ignore', 'pipe'], env });
    const exited = new Promise<number | null>((resolve) => ant.once('exit', resolve));
    const lines: string[] = [];
    await lineOf(ant.stderr!, /connected to queen/, lines);
    const definition = join(dir, 'remote.yaml');
    writeFileSync(definition, 'job_type: remote\ntasks:\n  - task_type: t\n    tags: [linux]\n    script: [\'echo "on $(hostname)"\']\n');
    expect((await myrmex(['apply', definition, '--server', url])).code).toBe(0);
    const done = await myrmex(['submit', 'remote', '--wait', '--json', '--server', url]);
    expect(JSON.parse(done.stdout)).toMatchObject({ state: 'COMPLETED' });
    const listed = await myrmex(['ants', '--json', '--server', url]);
    expect(JSON.parse(listed.stdout).items).toEqual([
      expect.objectContaining({ id: 'cli-ant', remote: true, connected: true, tags: ['linux'], labels: { zone: 'z1' } }),
    ]);
    const drain = await myrmex(['ants', 'drain', 'cli-ant', '--server', url]);
    expect(drain.stdout).toMatch(/asked ant cli-ant to drain/);
    expect(await exited).toBe(0);
  }, 120_000);
});

describe('myrmex serve --tls-cert/--tls-key and myrmex ant --ca', () => {
  const tlsDir = mkdtempSync(join(tmpdir(), 'myrmex-cli-tls-'));
  const certs = throwawayTls(tlsDir);
  let queen: ChildProcess | undefined;
  let tlsUrl = '';

  beforeAll(async () => {
    queen = spawn(
      process.execPath,
      [
        bin,
        'serve',
        '--port',
        '0',
        '--db',
        join(tlsDir, 'queen.db'),
        '--capacity',
        '0',
        '--json',
        '--tls-cert',
        certs.certFile,
        '--tls-key',
        certs.keyFile,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'], env },
    );
    tlsUrl = (JSON.parse(await lineOf(queen.stdout!, /"url"/, [])) as { url: string }).url;
  }, 90_000);

  afterAll(() => {
    queen?.kill('SIGKILL');
    rmSync(tlsDir, { recursive: true, force: true });
  });

  it('refuses a certificate without its key, naming the flags (exit 2)', async () => {
    const half = await myrmex(['serve', '--port', '0', '--db', join(tlsDir, 'other.db'), '--tls-cert', certs.certFile]);
    expect(half.code).toBe(2);
    expect(half.stderr).toMatch(/--tls-cert needs a private key: give --tls-key/);
    const swapped = await myrmex([
      'serve',
      '--port',
      '0',
      '--db',
      join(tlsDir, 'other.db'),
      '--tls-cert',
      certs.keyFile,
      '--tls-key',
      certs.certFile,
    ]);
    expect(swapped.code).toBe(2);
    expect(swapped.stderr).toMatch(/--tls-cert '.*' and --tls-key '.*' are not a usable PEM certificate and key/);
  }, 120_000);

  it('serves the API and the dashboard over HTTPS; an ant with --ca runs a job over wss://', async () => {
    expect(tlsUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const dashboard = await new Promise<number>((resolve, reject) =>
      get(`${tlsUrl}/`, { ca: readFileSync(certs.caFile) }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      }).on('error', reject),
    );
    expect(dashboard).toBe(200);
    const ant = spawn(
      process.execPath,
      [bin, 'ant', '--server', tlsUrl, '--token', TOKEN, '--ca', certs.caFile, '--id', 'tls-ant', '--state-dir', join(tlsDir, 'state')],
      { stdio: ['ignore', 'ignore', 'pipe'], env },
    );
    const exited = new Promise<number | null>((resolve) => ant.once('exit', resolve));
    await lineOf(ant.stderr!, /connected to queen/, []);
    // The CLI's own client trusts the private CA the way every Node program can: NODE_EXTRA_CA_CERTS.
    const trust = { NODE_EXTRA_CA_CERTS: certs.caFile };
    const definition = join(tlsDir, 'tls.yaml');
    writeFileSync(definition, "job_type: over-tls\ntasks:\n  - task_type: t\n    script: ['echo over tls']\n");
    expect((await myrmex(['apply', definition, '--server', tlsUrl], trust)).code).toBe(0);
    const done = await myrmex(['submit', 'over-tls', '--wait', '--json', '--server', tlsUrl], trust);
    expect(JSON.parse(done.stdout)).toMatchObject({ state: 'COMPLETED' });
    ant.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 120_000);

  it('an ant without the CA stops at once, saying to pass --ca (exit 2)', async () => {
    const refused = await myrmex(['ant', '--server', tlsUrl, '--token', TOKEN, '--id', 'no-ca', '--state-dir', join(tlsDir, 's1')]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/TLS certificate is not trusted .*pass the CA that signed it with --ca <pem> \(or MYRMEX_ANT_CA\)/);
  }, 120_000);
});

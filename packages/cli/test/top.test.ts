import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, type RunningServer, serve } from '@myrmex/orchestrator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/index.js';

const entry = fileURLToPath(new URL('./top-entry.ts', import.meta.url));
const GATED = (dir: string) => `job_type: gated
tasks:
  - task_type: hold
    timeout: 60s
    script:
      - while [ ! -f ${dir}/open ]; do sleep 0.05; done
`;

describe('myrmex top', () => {
  let server: RunningServer;
  let dir: string;
  let jobId: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'myrmex-top-'));
    server = await serve({ port: 0, handleSignals: false, dbPath: join(dir, 'queen.db'), logger: createLogger({ write: () => {} }) });
    await fetch(`${server.url}/api/jobs/definitions`, { method: 'POST', headers: { 'content-type': 'text/yaml' }, body: GATED(dir) });
    const response = await fetch(`${server.url}/api/jobs/requests`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ job_type: 'gated', params: {} }),
    });
    jobId = ((await response.json()) as { id: string }).id;
  });
  afterAll(async () => {
    writeFileSync(join(dir, 'open'), '');
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('redraws the queue, running tasks and ants in a pseudo-terminal, and quits on q', async () => {
    const command = `${process.execPath} --conditions=source --import tsx ${entry} top --server ${server.url} --interval 200`;
    // script(1) from util-linux gives the command a real pseudo-terminal: stdout.isTTY, raw-mode keys.
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, COLUMNS: '120', LINES: '40' },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const frames = () => output.split('\u001b[H\u001b[2J');
    await expect
      .poll(() => frames().some((f) => f.includes('RUNNING  1 task(s)') && f.includes(jobId.slice(0, 8)) && f.includes('hold')), {
        timeout: 80_000,
      })
      .toBe(true);
    const frame = frames().find((f) => f.includes('RUNNING  1 task(s)')) ?? '';
    expect(frame).toMatch(/EXECUTING 1/);
    expect(frame).toMatch(/embedded@\S+\s+LIVE\s+\[#+\.+\] 1\/4/);
    expect(output).toContain('\u001b[?1049h');
    // Redrawn: more frames arrive while it runs.
    const count = frames().length;
    await expect.poll(() => frames().length, { timeout: 30_000 }).toBeGreaterThan(count + 1);
    child.stdin.write('q');
    expect(await exited).toBe(0);
    expect(output).toContain('\u001b[?1049l');
    // Starting the CLI from source (tsx compiles it) is slow on a loaded 2-core machine.
  }, 120_000);

  it('prints one snapshot as JSON, and one plain frame with --once', async () => {
    const out: string[] = [];
    const io = { out: (text: string) => out.push(text), err: (text: string) => out.push(text) };
    expect(await main(['top', '--json', '--server', server.url], io)).toBe(0);
    const snapshot = JSON.parse(out[0] ?? '{}') as {
      running: { jobId: string; task: string }[];
      ants: { capacity: number }[];
      jobs: Record<string, number>;
    };
    expect(snapshot.running).toEqual([expect.objectContaining({ jobId, task: 'hold' })]);
    expect(snapshot.ants[0]?.capacity).toBe(4);
    expect(snapshot.jobs.EXECUTING).toBe(1);
    out.length = 0;
    expect(await main(['top', '--once', '--server', server.url], io)).toBe(0);
    expect(out.join('\n')).toContain('RUNNING  1 task(s)');
  });

  it('says how to start a queen when none answers', async () => {
    const out: string[] = [];
    const io = { out: (text: string) => out.push(text), err: (text: string) => out.push(text) };
    expect(await main(['top', '--once', '--server', 'http://127.0.0.1:9'], io)).toBe(1);
    expect(out.join('\n')).toMatch(/cannot reach the queen at http:\/\/127\.0\.0\.1:9: start it with `myrmex serve`/);
  });
});

describe('myrmex definitions and myrmex ants', () => {
  let server: RunningServer;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'myrmex-lists-'));
    server = await serve({ port: 0, handleSignals: false, dbPath: join(dir, 'queen.db'), logger: createLogger({ write: () => {} }) });
    for (const name of ['alpha', 'beta', 'gamma']) {
      await fetch(`${server.url}/api/jobs/definitions`, {
        method: 'POST',
        headers: { 'content-type': 'text/yaml' },
        body: `job_type: ${name}\ntasks:\n  - task_type: a\n    script: [echo ${name}]\n`,
      });
    }
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const run = async (...args: string[]) => {
    const out: string[] = [];
    const code = await main([...args, '--server', server.url], { out: (t) => out.push(t), err: (t) => out.push(t) });
    return { code, text: out.join('\n') };
  };

  it('pages definitions with --limit and --offset, as a table or as JSON', async () => {
    const first = await run('definitions', '--limit', '2', '--json');
    expect(first.code).toBe(0);
    const page = JSON.parse(first.text) as { items: { job_type: string }[]; total: number; offset: number };
    expect(page.total).toBe(3);
    const rest = JSON.parse((await run('definitions', '--limit', '2', '--offset', '2', '--json')).text) as {
      items: { job_type: string }[];
    };
    expect([...page.items, ...rest.items].map((d) => d.job_type).sort()).toEqual(['alpha', 'beta', 'gamma']);
    const table = await run('definitions', '--limit', '2');
    expect(table.text).toMatch(/^type\s+version\s+tasks/m);
    expect(table.text).toContain('1-2 of 3 (use --offset for more)');
  });

  it('lists the ants with their capacity, as a table or as JSON', async () => {
    const json = JSON.parse((await run('ants', '--json')).text) as { items: { id: string; capacity: number }[]; total: number };
    expect(json.total).toBe(1);
    expect(json.items[0]?.capacity).toBe(4);
    expect((await run('ants')).text).toMatch(/embedded@\S+\s+0\/4\s+SHELL/);
    expect((await run('ants', '--offset', '5')).text).toBe('no ants at offset 5 (1 in all)');
  });
});

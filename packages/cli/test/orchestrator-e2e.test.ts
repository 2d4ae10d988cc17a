import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The myrmex binary end to end: `myrmex serve` runs as a real child process on a temporary SQLite
 * file and a free port, and every other command runs as its own process against it. The binary
 * loads dist/, so the packages must be built first (`npm run build`; CI builds before testing).
 */

const bin = fileURLToPath(new URL('../bin/myrmex.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'myrmex-cli-'));

const PIPELINE = `job_type: pipeline
tasks:
  - task_type: produce
    script:
      - echo "making {{.Thing}}"
      - echo "::set-output name=Made::{{.Thing}}-done"
    on_completed: consume
  - task_type: consume
    script:
      - echo "got {{.Made}}"
`;

const FAILING = `job_type: failing
tasks:
  - task_type: boom
    script:
      - echo "about to fail" >&2
      - exit 4
`;

const BROKEN = `job_type: broken
tasks:
  - task_type: a
    scirpt: [echo]
    on_completed: nowhere
`;

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function myrmex(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

function json<T>(run: Run): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${run.code}): ${run.stdout}\n${run.stderr}`);
  }
}

interface Job {
  id: string;
  job_type: string;
  state: string;
  tasks: { task_type: string; state: string; exit_code?: number; outputs: Record<string, string>; attempts: unknown[] }[];
}

let server: ChildProcess;
let url = '';
const serverLines: string[] = [];
const onServer = (args: readonly string[]) => myrmex([...args, '--server', url]);

async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  for (const pkg of ['cli', 'orchestrator']) {
    if (!existsSync(fileURLToPath(new URL(`../../${pkg}/dist/index.js`, import.meta.url)))) {
      throw new Error(`packages/${pkg}/dist is missing: run \`npm run build\` first (this test runs the built binary)`);
    }
  }
  server = spawn(process.execPath, [bin, 'serve', '--port', '0', '--db', join(dir, 'queen.db'), '--json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stderr?.on('data', (chunk) => serverLines.push(String(chunk)));
  url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: server.stdout! });
    lines.on('line', (line) => {
      serverLines.push(line);
      const entry = JSON.parse(line) as { url?: string };
      if (entry.url) resolve(entry.url);
    });
    server.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${serverLines.join('\n')}`)));
  });
});

afterAll(async () => {
  if (server.exitCode === null) {
    server.kill('SIGKILL');
    await new Promise((resolve) => server.once('exit', resolve));
  }
  rmSync(dir, { recursive: true, force: true });
});

// Every step starts a Node process (1 to 3 s each on a loaded 2-core machine) and a test runs up to
// a dozen of them, so the budget is per test, not the default 30 s; the tests still wait on conditions.
describe('myrmex CLI against a served queen', { timeout: 180_000 }, () => {
  it('validate prints every problem at file:line:col and exits 1; a valid file passes', async () => {
    const broken = file('broken.yaml', BROKEN);
    const bad = await myrmex(['validate', broken]);
    expect(bad.code).toBe(1);
    const lines = bad.stderr.trim().split('\n');
    expect(lines.find((line) => line.startsWith(`${broken}:4:5: `))).toMatch(/unknown key 'scirpt'.*did you mean 'script'/);
    expect(lines.some((line) => line.startsWith(`${broken}:5:19: `) && line.includes('nowhere'))).toBe(true);

    const asJson = json<{ valid: boolean; errors: { line: number; column: number }[] }>(await myrmex(['validate', broken, '--json']));
    expect(asJson.valid).toBe(false);
    expect(asJson.errors.map((e) => `${e.line}:${e.column}`)).toEqual(expect.arrayContaining(['4:5', '5:19']));

    const good = await myrmex(['validate', file('pipeline.yaml', PIPELINE)]);
    expect(good).toMatchObject({ code: 0, stderr: '' });
    expect(good.stdout).toContain("valid job definition 'pipeline' with 2 tasks");
  });

  it('apply creates a version, keeps it when unchanged, and reports a bad file with positions', async () => {
    const first = await onServer(['apply', file('pipeline.yaml', PIPELINE), '--json']);
    expect(json(first)).toEqual({ job_type: 'pipeline', version: 1, created: true });
    expect(json(await onServer(['apply', file('pipeline.yaml', PIPELINE), '--json']))).toEqual({
      job_type: 'pipeline',
      version: 1,
      created: false,
    });
    expect((await onServer(['apply', file('failing.yaml', FAILING)])).stdout).toContain('failing: version 1 created');
    expect(
      (
        await onServer([
          'apply',
          file(
            'sleeper.json',
            JSON.stringify({ job_type: 'sleeper', tasks: [{ task_type: 'nap', script: ['echo napping', 'sleep 30'] }] }),
          ),
        ])
      ).code,
    ).toBe(0);

    const broken = file('broken.yaml', BROKEN);
    const refused = await onServer(['apply', broken]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('The job definition is not valid');
    expect(refused.stderr).toContain(`${broken}:4:5: tasks[0].scirpt: unknown key 'scirpt'`);
    const problem = json<{ status: number; errors: { location: string }[] }>(await onServer(['apply', broken, '--json']));
    expect(problem.status).toBe(422);
    expect(problem.errors.map((e) => e.location)).toContain(`${broken}:5:19`);
  });

  it('submit --wait follows the job to the end: exit 0 when it completes, 1 when it fails', async () => {
    const done = await onServer(['submit', 'pipeline', '--param', 'Thing=widget', '--priority', '70', '--wait', '--json']);
    expect(done.code).toBe(0);
    const job = json<Job>(done);
    expect(job).toMatchObject({ job_type: 'pipeline', state: 'COMPLETED', priority: 70, params: { Thing: 'widget' } });
    expect(job.tasks.map((t) => [t.task_type, t.state])).toEqual([
      ['produce', 'COMPLETED'],
      ['consume', 'COMPLETED'],
    ]);
    expect(job.tasks[0]?.outputs).toEqual({ Made: 'widget-done' });

    const failed = await onServer(['submit', 'failing', '--wait', '--json']);
    expect(failed.code).toBe(1);
    expect(json<Job>(failed)).toMatchObject({ state: 'FAILED', tasks: [{ task_type: 'boom', state: 'FAILED', exit_code: 4 }] });

    // The same Idempotency-Key twice is one job: the second run gets the first answer back.
    const once = json<Job>(await onServer(['submit', 'pipeline', '-p', 'Thing=x', '--idempotency-key', 'cli-key-1', '--json']));
    const twice = json<Job>(await onServer(['submit', 'pipeline', '-p', 'Thing=x', '--idempotency-key', 'cli-key-1', '--json']));
    expect(twice.id).toBe(once.id);

    // Without a terminal the progress is one plain line per transition, then the task table.
    const plain = await onServer(['submit', 'pipeline', '-p', 'Thing=gadget', '--wait']);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^submitted \S+ pipeline v1 /);
    expect(plain.stdout).toMatch(/task produce EXECUTING -> COMPLETED/);
    expect(plain.stdout).toMatch(/job EXECUTING -> COMPLETED/);
    expect(plain.stdout).toMatch(/consume\s+COMPLETED\s+0\s+1/);
  });

  it('status, logs and jobs read what happened', async () => {
    const job = json<Job>(await onServer(['submit', 'pipeline', '--param', 'Thing=bolt', '--wait', '--json']));
    const status = json<Job & { timeline: { to: string }[] }>(await onServer(['status', job.id, '--json']));
    expect(status.id).toBe(job.id);
    expect(status.timeline.at(-1)?.to).toBe('COMPLETED');
    expect((await onServer(['status', job.id])).stdout).toMatch(new RegExp(`^job ${job.id}: pipeline v1 COMPLETED`));

    const logs = await onServer(['logs', job.id, '--json']);
    const lines = logs.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { task_type: string; stream: string; text: string });
    const stdout = lines.filter((l) => l.stream === 'stdout').map((l) => l.text);
    expect(stdout.indexOf('making bolt')).toBeGreaterThanOrEqual(0);
    expect(stdout.indexOf('got bolt-done')).toBeGreaterThan(stdout.indexOf('making bolt'));
    const consume = await onServer(['logs', job.id, '--task', 'consume']);
    expect(consume.stdout).toMatch(/consume#1 got bolt-done/);
    expect(consume.stdout).not.toContain('making bolt');

    const failed = json<{ items: Job[]; total: number }>(await onServer(['jobs', '--state', 'FAILED', '--json']));
    expect(failed.items.length).toBeGreaterThan(0);
    expect(failed.items.every((j) => j.state === 'FAILED' && j.job_type === 'failing')).toBe(true);
    const limited = json<{ items: Job[]; total: number; limit: number }>(
      await onServer(['jobs', '--type', 'pipeline', '--limit', '1', '--count', '--json']),
    );
    expect(limited.items).toHaveLength(1);
    expect(limited.total).toBeGreaterThanOrEqual(3);
    expect((await onServer(['jobs', '--type', 'pipeline'])).stdout).toMatch(/^id\s+type\s+version\s+state/);
    // A page's table ends with where the next one starts; following it gives the next (older) job.
    const table = (await onServer(['jobs', '--type', 'pipeline', '--limit', '1', '--count'])).stdout;
    expect(table).toMatch(new RegExp(`\\n1-1 of ${limited.total} \\(more: --cursor \\S+\\)`));
    const cursor = /more: --cursor (\S+)\)/.exec(table)![1]!;
    const next = json<{ items: Job[] }>(await onServer(['jobs', '--type', 'pipeline', '--limit', '1', '--cursor', cursor, '--json']));
    expect(next.items[0]!.id).not.toBe(limited.items[0]!.id);
    expect((await onServer(['jobs', '--text', limited.items[0]!.id, '--json'])).stdout).toContain(limited.items[0]!.id);
  });

  it('logs --follow streams a running job; cancel stops it; restart runs it again', async () => {
    const job = json<Job>(await onServer(['submit', 'sleeper', '--json']));
    const follow = onServer(['logs', job.id, '--follow']);
    await until(async () => {
      const detail = json<Job>(await onServer(['status', job.id, '--json']));
      return detail.tasks.some((t) => t.state === 'EXECUTING') ? true : undefined;
    }, 'the sleeper to start');
    const cancelled = await onServer(['cancel', job.id, '--json']);
    expect(cancelled.code).toBe(0);
    const followed = await follow;
    expect(followed.code).toBe(0);
    expect(followed.stdout).toMatch(/nap#1 napping/);
    const after = json<Job>(await onServer(['status', job.id, '--json']));
    expect(after.state).toBe('CANCELLED');

    const again = await onServer(['cancel', job.id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('nothing to cancel');

    const restarted = json<Job>(await onServer(['restart', job.id, '--hard', '--json']));
    expect(restarted.id).toBe(job.id);
    const running = await until(async () => {
      const detail = json<Job>(await onServer(['status', job.id, '--json']));
      return detail.tasks[0]?.state === 'EXECUTING' && detail.tasks[0].attempts.length === 2 ? detail : undefined;
    }, 'the restarted sleeper to run');
    expect(running.state).toBe('EXECUTING');
    expect((await onServer(['cancel', job.id])).stdout).toMatch(/^cancelled /);
  });

  it('pause holds a running job, a second pause is refused (exit 1), resume lets it go on', async () => {
    const job = json<Job>(await onServer(['submit', 'sleeper', '--json']));
    await until(
      async () => (json<Job>(await onServer(['status', job.id, '--json'])).state === 'EXECUTING' ? true : undefined),
      'the sleeper',
    );
    const paused = await onServer(['pause', job.id, '--reason', 'freeze']);
    expect(paused.code).toBe(0);
    expect(paused.stdout).toMatch(/^paused /);
    expect(json<Job>(await onServer(['status', job.id, '--json'])).state).toBe('PAUSED');
    const again = await onServer(['pause', job.id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('only READY or EXECUTING jobs can be paused');
    expect(json<Job>(await onServer(['resume', job.id, '--json']))).toMatchObject({ id: job.id, state: 'EXECUTING' });
    expect((await onServer(['resume', job.id])).code).toBe(1);
    expect((await onServer(['cancel', job.id])).code).toBe(0);
  });

  it('submit --wait exits 1 when the job it waits for is cancelled', async () => {
    const waiting = onServer(['submit', 'sleeper', '--wait', '--json']);
    const id = await until(async () => {
      const page = json<{ items: Job[] }>(await onServer(['jobs', '--type', 'sleeper', '--state', 'EXECUTING', '--json']));
      return page.items[0]?.id;
    }, 'the waited-for sleeper to start');
    expect((await onServer(['cancel', id])).code).toBe(0);
    const waited = await waiting;
    expect(waited.code).toBe(1);
    expect(json<Job>(waited)).toMatchObject({ id, state: 'CANCELLED', tasks: [{ task_type: 'nap', state: 'CANCELLED' }] });
  });

  it('explains bad arguments (exit 2), unknown jobs and an unreachable queen (exit 1)', async () => {
    const usage = await onServer(['submit', 'pipeline', '--priority', '500']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--priority must be an integer from 0 to 100');
    expect((await onServer(['submit', 'pipeline', '--param', 'novalue'])).stderr).toContain('--param must be key=value or key:=json');

    const missing = await onServer(['status', 'no-such-job']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("no job request has the id 'no-such-job'");

    const unknownType = await onServer(['submit', 'ghost']);
    expect(unknownType.stderr).toContain("no job definition has the type 'ghost': apply one first");

    const nobody = await myrmex(['jobs'], { MYRMEX_SERVER: 'http://127.0.0.1:9' });
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toContain('cannot reach the queen at http://127.0.0.1:9: start it with `myrmex serve`');
  });

  it('serve shuts down gracefully on SIGTERM, ending open follows with a message', async () => {
    // A running sleeper has printed a line and has not ended, so its log follower is open when the queen goes.
    const job = json<Job>(await onServer(['submit', 'sleeper', '--json']));
    const follower = spawn(process.execPath, [bin, 'logs', job.id, '--follow', '--server', url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    follower.stderr?.on('data', (chunk) => {
      stderr += String(chunk);
    });
    const followerExit = new Promise<number | null>((resolve) => follower.once('exit', (code) => resolve(code)));
    // The follower's first event proves its stream is open; a timer would race it on a loaded machine.
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: follower.stdout! }).on('line', (line) => {
        if (line.includes('napping')) resolve();
      });
      followerExit.then((code) => reject(new Error(`the follower exited with ${code} before its first line: ${stderr}`)));
    });
    const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
    server.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(serverLines.some((line) => line.includes('myrmex queen stopped'))).toBe(true);
    expect(await followerExit).toBe(1);
    expect(stderr).toContain(`closed the stream before job ${job.id} ended`);
  });
});

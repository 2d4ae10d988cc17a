import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, type RunningServer, serve } from '../../src/index.js';
import { LOCAL_IMAGE, PODMAN_SOCKET, podmanGate } from '../executors/podman.js';

const examplesDir = fileURLToPath(new URL('../../../../examples/orchestrator', import.meta.url));
const podman = await podmanGate();

describe('serve', () => {
  const dirs: string[] = [];
  const servers: RunningServer[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'myrmex-serve-'));
    dirs.push(dir);
    return dir;
  };
  const start = async (options: Parameters<typeof serve>[0]) => {
    const lines: string[] = [];
    const server = await serve({ port: 0, handleSignals: false, logger: createLogger({ write: (text) => lines.push(text) }), ...options });
    servers.push(server);
    return { server, lines };
  };

  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('rejects bad options before opening anything, naming the option', async () => {
    await expect(serve({ port: 70_000 })).rejects.toThrow('serve: port must be an integer from 0 to 65535, got 70000');
    // 0 is a queen for remote ants only; a negative or fractional capacity is refused.
    await expect(serve({ capacity: -1 })).rejects.toThrow('serve: capacity must be an integer from 0 to 1024, got -1');
    await expect(serve({ capacity: 1.5 })).rejects.toThrow('serve: capacity must be an integer from 0 to 1024, got 1.5');
    await expect(serve({ host: '' })).rejects.toThrow('serve: host must be a non-empty string, got ""');
  });

  it('creates the database folder, serves the API and closes gracefully', async () => {
    const dbPath = join(tempDir(), 'nested', 'deeper', 'queen.db');
    const { server, lines } = await start({ dbPath });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.dbPath).toBe(dbPath);
    const health = await fetch(`${server.url}/api/health`);
    expect(await health.json()).toMatchObject({ ok: true });
    await server.close();
    await server.closed;
    await expect(fetch(`${server.url}/api/health`)).rejects.toThrow();
    expect(lines.join('')).toMatch(/myrmex queen listening on http:\/\/127\.0\.0\.1:\d+ \(store .*queen\.db\)[\s\S]*myrmex queen stopped/);
  });

  it('--demo applies the examples, runs every demo job to its end and keeps serving', async () => {
    const { server, lines } = await start({ dbPath: join(tempDir(), 'queen.db'), demo: true, examplesDir });
    const demo = server.demo;
    if (!demo) throw new Error('the demo did not start');
    expect(demo.applied).toEqual(expect.arrayContaining(['diamond', 'flaky-with-cleanup', 'http-poll', 'release-chain']));
    const ended = await demo.finished;
    expect(ended.every((job) => ['COMPLETED', 'FAILED', 'CANCELLED'].includes(job.state))).toBe(true);
    // The four examples the demo is built around end as their comments say.
    const states = ended
      .filter((job) => ['diamond', 'flaky-with-cleanup', 'http-poll', 'release-chain'].includes(job.jobType))
      .map((job) => `${job.jobType}${job.why ? '*' : ''} ${job.state}`)
      .sort();
    expect(states).toEqual([
      'diamond COMPLETED',
      'flaky-with-cleanup COMPLETED',
      'flaky-with-cleanup* FAILED',
      'http-poll COMPLETED',
      'release-chain COMPLETED',
      'release-chain* COMPLETED',
    ]);
    const log = lines.join('');
    expect(log).toMatch(/demo: diamond \w+ task join EXECUTING -> COMPLETED/);
    expect(log).toMatch(/demo: http-poll \w+ task wait-for-status EXECUTING -> READY \(exit code 503/);
    expect(log).toContain('demo: every demo job has ended');
    // Artifacts passed between tasks and a fork/join (examples/orchestrator/build-and-fork.yaml).
    expect(ended.filter((job) => ['build-and-fork', 'fork-child'].includes(job.jobType)).map((job) => job.state)).toEqual([
      'COMPLETED',
      'COMPLETED',
    ]);
    expect(log).toMatch(/demo: build-and-fork \w+ task join EXECUTING -> COMPLETED/);
    // An approval gate the demo decides itself: approved, and the variant rejected into its roll-back route.
    expect(
      ended
        .filter((job) => job.jobType === 'approval-gate')
        .map((job) => `${job.why ? 'rejected' : 'approved'} ${job.state}`)
        .sort(),
    ).toEqual(['approved COMPLETED', 'rejected COMPLETED']);
    expect(log).toMatch(/demo: approval-gate \w+ task approve-release READY -> COMPLETED \(APPROVED by demo \(demo: the demo approves\)\)/);
    expect(log).toMatch(/demo: approval-gate \w+ task roll-back READY -> EXECUTING/);
    // The HTTP polling job polled the demo's loopback status endpoint, not the default URL.
    const poll = ended.find((job) => job.jobType === 'http-poll');
    const detail = (await (await fetch(`${server.url}/api/jobs/requests/${poll?.id}`)).json()) as { params: { StatusUrl: string } };
    expect(detail.params.StatusUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/http-poll$/);
    expect((await fetch(`${server.url}/api/health`)).status).toBe(200);
    // The container example runs when a Docker or Podman answers where they usually listen; otherwise the demo says why it is left out.
    const container = ended.find((job) => job.jobType === 'container-build');
    if (container === undefined) {
      expect(log).toMatch(
        /WARN .*demo: skipped .*container-build\.yaml: its DOCKER tasks need a container engine and none is reachable \(start Docker or `podman system service`, or set MYRMEX_CONTAINER_SOCKET/,
      );
    } else expect(container.state).toBe('COMPLETED');
  });

  podman.describe('with a container engine', () => {
    it('--demo runs the container example on the configured engine: a DOCKER task whose artifact a SHELL task reads', async () => {
      const { server, lines } = await start({
        dbPath: join(tempDir(), 'queen.db'),
        demo: true,
        examplesDir,
        // Adaptation: no registry is reachable here, so the example's busybox image is the locally built one.
        executorConfig: { container: { socketPath: PODMAN_SOCKET, images: { 'busybox:1.36': LOCAL_IMAGE } } },
      });
      const ended = await server.demo!.finished;
      expect(ended.find((job) => job.jobType === 'container-build')?.state).toBe('COMPLETED');
      const job = ended.find((j) => j.jobType === 'container-build')!;
      const logs = (await (await fetch(`${server.url}/api/jobs/requests/${job.id}/logs?task=inspect`)).json()) as {
        items: { text: string }[];
      };
      expect(logs.items.map((l) => l.text)).toContain('compiled in a container on Linux');
      expect(lines.join('')).toMatch(/demo: container-build \w+ task compile EXECUTING -> COMPLETED/);
    }, 240_000);
  });

  it('--demo with no definitions, or an invalid one, says so and keeps serving', async () => {
    const empty = tempDir();
    const none = await start({ dbPath: join(empty, 'queen.db'), demo: true, examplesDir: join(empty, 'missing') });
    expect(none.server.demo?.applied).toEqual([]);
    expect(await none.server.demo?.finished).toEqual([]);
    expect(none.lines.join('')).toMatch(/WARN .*demo: no job definitions in/);

    const withBad = tempDir();
    writeFileSync(join(withBad, 'bad.yaml'), 'job_type: bad\ntasks: []\n');
    writeFileSync(join(withBad, 'good.yaml'), 'job_type: good\ntasks:\n  - task_type: a\n    script: ["true"]\n');
    const mixed = await start({ dbPath: join(withBad, 'queen.db'), demo: true, examplesDir: withBad });
    expect(mixed.server.demo?.applied).toEqual(['good']);
    expect(mixed.lines.join('')).toMatch(/ERROR .*bad\.yaml is not a valid definition:\n.*bad\.yaml:2:\d+: /);
    expect((await mixed.server.demo?.finished)?.map((job) => job.state)).toEqual(['COMPLETED']);
  });
});

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { frameworkPolicy, Queen, serve } from '@myrmex/orchestrator';
import { parseProfile, type SimJob, simulate } from '@myrmex/scheduling';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../src/index.js';
import { capture } from './support/capture.js';

let dir: string | undefined;
let queen: Queen | undefined;
afterEach(async () => {
  await queen?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const PROFILE = 'name: priority-fifo\nplugins:\n  - priority\n  - fcfs\n';

describe('the live queen on a scheduling profile', () => {
  it('starts the same small workload in the same order as the simulator', async () => {
    const priorities = [1, 5, 3, 5, 0, 9, 3, 1];
    dir = await mkdtemp(join(tmpdir(), 'myrmex-sim-queen-'));
    queen = await Queen.open({
      dbPath: join(dir, 'q.db'),
      ant: { capacity: 1 },
      pollIntervalMs: 50,
      policy: frameworkPolicy(parseProfile(PROFILE)),
    });
    await queen.start();
    await queen.applyDefinition('job_type: step\ntasks:\n  - task_type: run\n    script: ["true"]\n');
    // Everything becomes due at one instant, so the order is the profile's, not the order of arrival.
    const due = new Date(Date.now() + 1_500);
    const ids: string[] = [];
    for (const priority of priorities) ids.push((await queen.submit({ jobType: 'step', priority, scheduledAt: due })).id);
    const deadline = Date.now() + 30_000;
    let jobs = await Promise.all(ids.map((id) => queen!.getJob(id)));
    while (jobs.some((j) => j?.state !== 'COMPLETED') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      jobs = await Promise.all(ids.map((id) => queen!.getJob(id)));
    }
    expect(jobs.map((j) => j?.state)).toEqual(priorities.map(() => 'COMPLETED'));
    const live = [...jobs].sort((a, b) => a!.startedAt!.getTime() - b!.startedAt!.getTime()).map((j) => ids.indexOf(j!.id));

    const workload: SimJob[] = priorities.map((priority, i) => ({
      id: `job${i}`,
      arrival: 0,
      duration: 10,
      priority,
      resources: { cpu: 1 },
      tenant: 'default',
    }));
    const simulated = simulate({ jobs: workload, ants: [{ id: 'ant', capacity: { cpu: 1 } }] }, parseProfile(PROFILE));
    expect(live).toEqual(simulated.startOrder.map((id) => Number(id.slice(3))));
    expect(live).toEqual([5, 1, 3, 2, 6, 0, 7, 4]);
  });
});

describe('myrmex serve --scheduler', () => {
  it('refuses a bad profile before listening, naming file, line and field', async () => {
    dir = await mkdtemp(join(tmpdir(), 'myrmex-sim-queen-'));
    const profile = join(dir, 'bad.yaml');
    await writeFile(profile, 'plugins:\n  - priority: { aging: { interval: never } }\n');
    const { io, err } = capture();
    expect(await main(['serve', '--port', '0', '--db', join(dir, 'q.db'), '--scheduler', profile], io)).toBe(1);
    expect(err.join('\n')).toMatch(/bad\.yaml:2:\d+: plugins\[0\]\.priority\.aging\.interval: 'never' is not a duration/);
    const missing = capture();
    expect(await main(['serve', '--port', '0', '--scheduler', join(dir, 'none.yaml')], missing.io)).toBe(2);
    expect(missing.err.join('\n')).toMatch(/--scheduler: cannot read .*none\.yaml' \(ENOENT\)/);
  });

  it('runs the queen of the server on the profile', async () => {
    dir = await mkdtemp(join(tmpdir(), 'myrmex-sim-queen-'));
    // Submitted lowest priority first, all due at one instant: the profile, not arrival, decides the order.
    const profile = parseProfile('name: by-priority\nplugins:\n  - priority\n');
    const server = await serve({
      port: 0,
      db: join(dir, 's.db'),
      handleSignals: false,
      json: true,
      policy: frameworkPolicy(profile),
      capacity: 1,
    });
    try {
      await server.queen.applyDefinition('job_type: step\ntasks:\n  - task_type: run\n    script: ["true"]\n');
      const due = new Date(Date.now() + 1_000);
      const ids: string[] = [];
      for (const priority of [1, 2, 3]) ids.push((await server.queen.submit({ jobType: 'step', priority, scheduledAt: due })).id);
      const deadline = Date.now() + 20_000;
      let jobs = await Promise.all(ids.map((id) => server.queen.getJob(id)));
      while (jobs.some((j) => j?.state !== 'COMPLETED') && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        jobs = await Promise.all(ids.map((id) => server.queen.getJob(id)));
      }
      const order = [...jobs].sort((x, y) => x!.startedAt!.getTime() - y!.startedAt!.getTime()).map((j) => ids.indexOf(j!.id));
      expect(order).toEqual([2, 1, 0]);

      // `myrmex status` of a waiting job says why it waits and when it should start.
      const later = new Date(Date.now() + 3_600_000);
      const waiting = await server.queen.submit({ jobType: 'step', scheduledAt: later });
      const shown = capture();
      expect(await main(['status', waiting.id, '--server', server.url], shown.io)).toBe(0);
      const at = later
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z');
      expect(shown.out.join('\n')).toContain(
        `waiting: scheduled: not before ${later.toISOString()}; estimated start ${at} (held by schedule)`,
      );
      const json = capture();
      expect(await main(['status', waiting.id, '--server', server.url, '--json'], json.io)).toBe(0);
      expect(JSON.parse(json.out.join(''))).toMatchObject({ id: waiting.id, scheduling: { waiting: true, held_by: 'schedule' } });
    } finally {
      await server.close();
    }
  });
});

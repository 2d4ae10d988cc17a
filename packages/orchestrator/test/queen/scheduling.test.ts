import type { JobDetail, Queen } from '@myrmex/orchestrator';
import { describe, expect, it } from 'vitest';
import { finished, Meter, source, startQueen, tempDb, until } from './helpers.js';

/** Intervals in which each job was EXECUTING, from its timeline. */
function executing(job: JobDetail): [number, number] {
  const start = job.timeline.find((e) => !e.taskType && e.to === 'EXECUTING')!.at.getTime();
  const end = job.timeline.findLast((e) => !e.taskType && ['COMPLETED', 'FAILED', 'CANCELLED'].includes(e.to))!.at.getTime();
  return [start, end];
}

const overlaps = (intervals: [number, number][]) =>
  intervals.some(([s1, e1], i) => intervals.some(([s2, e2], j) => i !== j && s1 < e2 && s2 < e1));

async function submitMany(queen: Queen, jobType: string, n: number, priority?: number) {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await queen.submit({ jobType, ...(priority === undefined ? {} : { priority }) })).id);
  return ids;
}

describe('Queen: scheduling', () => {
  it('never runs more tasks than the ant capacity, and uses all of it', async () => {
    const meter = new Meter();
    const queen = await startQueen({ ant: { capacity: 3 }, meter });
    await queen.applyDefinition(
      source('work', [
        { task_type: 'a', script: ['sleep 40'] },
        { task_type: 'b', script: ['sleep 40'] },
        { task_type: 'c', needs: ['a', 'b'] },
      ]),
    );
    const ids = await submitMany(queen, 'work', 8);
    for (const id of ids) expect((await finished(queen, id)).state).toBe('COMPLETED');
    expect(meter.max.get('*')).toBe(3);
  });

  it('honours max_concurrency 1 exactly: one job of the type at a time, also across a queen restart', async () => {
    const dbPath = tempDb();
    const definition = source(
      'serial',
      [
        { task_type: 'a', script: ['sleep 60'] },
        { task_type: 'b', needs: ['a'], script: ['sleep 20'] },
      ],
      {
        max_concurrency: 1,
      },
    );
    const first = await startQueen({ dbPath, ant: { capacity: 4 }, shutdownGraceMs: 5000 });
    await first.applyDefinition(definition);
    const ids = await submitMany(first, 'serial', 4);
    await until(async () => (await first.getJob(ids[0]!))?.state === 'EXECUTING');
    await first.stop();
    const second = await startQueen({ dbPath, ant: { capacity: 4 } });
    const jobs = await Promise.all(ids.map((id) => finished(second, id)));
    expect(jobs.map((j) => j.state)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED', 'COMPLETED']);
    expect(overlaps(jobs.map(executing))).toBe(false);
  });

  it('max_concurrency 2 lets two jobs of the type run together, never three', async () => {
    const meter = new Meter();
    const queen = await startQueen({ ant: { capacity: 6 }, meter });
    await queen.applyDefinition(
      source('pair', [{ task_type: 'a', script: ['sleep 60'], environment: { KEY: 'pair' } }], { max_concurrency: 2 }),
    );
    const ids = await submitMany(queen, 'pair', 6);
    for (const id of ids) await finished(queen, id);
    expect(meter.max.get('pair')).toBe(2);
  });

  it('starts higher priority first, then in submission order', async () => {
    const meter = new Meter();
    const queen = await startQueen({ ant: { capacity: 1 }, meter });
    await queen.applyDefinition(source('blocker', [{ task_type: 'block', script: ['sleep 150'] }]));
    await queen.applyDefinition(source('p', [{ task_type: 'run' }]));
    const blocker = await queen.submit({ jobType: 'blocker' });
    await until(async () => (await queen.getJob(blocker.id))?.state === 'EXECUTING');
    const low1 = await queen.submit({ jobType: 'p', priority: 10 });
    const high = await queen.submit({ jobType: 'p', priority: 90 });
    const low2 = await queen.submit({ jobType: 'p', priority: 10 });
    const mid = await queen.submit({ jobType: 'p' });
    for (const job of [low1, high, low2, mid]) await finished(queen, job.id);
    expect(meter.order.filter((o) => o.endsWith('/run')).map((o) => o.split('/')[0])).toEqual([high.id, mid.id, low1.id, low2.id]);
  });

  it('waits for scheduled_at', async () => {
    const queen = await startQueen();
    await queen.applyDefinition(source('later', [{ task_type: 'a' }]));
    const at = new Date(Date.now() + 400);
    const job = await queen.submit({ jobType: 'later', scheduledAt: at });
    expect(job.scheduledAt).toEqual(at);
    const done = await finished(queen, job.id);
    expect(done.startedAt!.getTime()).toBeGreaterThanOrEqual(at.getTime());
  });

  it('routes by method and tags: a task waits for an ant that has all its tags', async () => {
    const dbPath = tempDb();
    const plain = await startQueen({ dbPath, ant: { capacity: 2, tags: ['linux'] } });
    await plain.applyDefinition(source('gpu', [{ task_type: 'train', tags: ['gpu'] }], { tags: ['linux'] }));
    const job = await plain.submit({ jobType: 'gpu' });
    await until(async () => (await plain.getJob(job.id))?.tasks[0]?.state === 'READY');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await plain.getJob(job.id))?.tasks[0]?.state).toBe('READY');
    expect(await plain.ants()).toMatchObject([{ tags: ['linux'], capacity: 2, running: 0 }]);
    await plain.stop();
    const gpu = await startQueen({ dbPath, ant: { capacity: 1, tags: ['linux', 'gpu'], methods: ['TEST'] } });
    expect((await finished(gpu, job.id)).state).toBe('COMPLETED');
  });

  it('does not let tasks no ant can take block runnable ones behind them (more than a page of them)', async () => {
    const queen = await startQueen({ ant: { capacity: 1 } });
    await queen.applyDefinition(source('gpu', [{ task_type: 'train', tags: ['gpu'] }]));
    await queen.applyDefinition(source('plain', [{ task_type: 'run' }]));
    const stuck = await submitMany(queen, 'gpu', 80, 90);
    await until(async () => (await queen.listJobs({ state: 'READY', jobType: 'gpu', count: 'exact' })).total === stuck.length);
    const job = await queen.submit({ jobType: 'plain', priority: 10 });
    expect((await finished(queen, job.id, 5000)).state).toBe('COMPLETED');
    expect((await queen.getJob(stuck[0]!))?.tasks[0]?.state).toBe('READY');
  });

  it('does not let a queue of jobs held back by max_concurrency starve other types (more than a batch of them)', async () => {
    const queen = await startQueen({ ant: { capacity: 2 } });
    await queen.applyDefinition(source('serial', [{ task_type: 'a', script: ['sleep 60000'] }], { max_concurrency: 1 }));
    await queen.applyDefinition(source('other', [{ task_type: 'b' }]));
    const serial = await submitMany(queen, 'serial', 520, 90);
    await until(async () => (await queen.getJob(serial[0]!))?.state === 'EXECUTING');
    const job = await queen.submit({ jobType: 'other', priority: 10 });
    expect((await finished(queen, job.id, 5000)).state).toBe('COMPLETED');
    expect((await queen.listJobs({ state: 'PENDING', jobType: 'serial', count: 'exact' })).total).toBe(519);
  });
});

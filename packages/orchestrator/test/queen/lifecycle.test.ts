import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type LogLine, Queen, QueenError, type TimelineEvent } from '@myrmex/orchestrator';
import { describe, expect, it } from 'vitest';
import { isAlive } from '../executors/processes.js';
import { finished, source, startQueen, taskStates, tempDb, until } from './helpers.js';

describe('Queen: definitions', () => {
  it('versions changed definitions; running requests keep their version; disabled types refuse new requests', async () => {
    const queen = await startQueen();
    const v1 = source('versioned', [{ task_type: 'a', script: ['sleep 150', 'out V one'] }]);
    expect(await queen.applyDefinition(v1, 'v.json')).toEqual({ jobType: 'versioned', version: 1, created: true });
    expect(await queen.applyDefinition(v1)).toEqual({ jobType: 'versioned', version: 1, created: false });
    const old = await queen.submit({ jobType: 'versioned' });
    await until(async () => (await queen.getJob(old.id))?.state === 'EXECUTING');
    const v2 = source('versioned', [
      { task_type: 'a', script: ['out V two'] },
      { task_type: 'b', needs: ['a'] },
    ]);
    expect(await queen.applyDefinition(v2)).toEqual({ jobType: 'versioned', version: 2, created: true });
    const fresh = await queen.submit({ jobType: 'versioned' });
    const [oldDone, freshDone] = [await finished(queen, old.id), await finished(queen, fresh.id)];
    expect([oldDone.version, oldDone.tasks.map((t) => t.taskType), oldDone.tasks[0]!.outputs]).toEqual([1, ['a'], { V: 'one' }]);
    expect([freshDone.version, freshDone.tasks.map((t) => t.taskType), freshDone.tasks[0]!.outputs]).toEqual([2, ['a', 'b'], { V: 'two' }]);
    expect((await queen.definitionVersions('versioned')).map((d) => [d.version, d.source])).toEqual([
      [2, v2],
      [1, v1],
    ]);
    await queen.disableDefinition('versioned');
    expect((await queen.listDefinitions()).find((d) => d.jobType === 'versioned')?.disabled).toBe(true);
    await expect(queen.submit({ jobType: 'versioned' })).rejects.toMatchObject({ code: 'conflict', field: 'jobType' });
    await expect(queen.disableDefinition('nope')).rejects.toMatchObject({ code: 'not_found' });
  });

  it('a submit builds the job from the latest version even when another queen applied or disabled it since', async () => {
    const dbPath = tempDb();
    const [queen, other] = [await startQueen({ dbPath }), await startQueen({ dbPath })];
    await queen.applyDefinition(source('shared', [{ task_type: 'a' }]));
    expect((await queen.submit({ jobType: 'shared' })).version).toBe(1);
    await other.applyDefinition(source('shared', [{ task_type: 'a' }, { task_type: 'b', needs: ['a'] }]));
    const fresh = await queen.submit({ jobType: 'shared' });
    expect(fresh.version).toBe(2);
    expect((await queen.getJob(fresh.id))?.tasks.map((t) => t.taskType)).toEqual(['a', 'b']);
    await other.disableDefinition('shared');
    await expect(queen.submit({ jobType: 'shared' })).rejects.toMatchObject({ code: 'conflict', field: 'jobType' });
  });

  it('rejects invalid definitions with positions and methods the queen does not have', async () => {
    const queen = await startQueen();
    await expect(queen.applyDefinition('job_type: x\ntasks:\n  - task_type: a\n    method: DOCKER\n', 'bad.yaml')).rejects.toThrow(
      /bad\.yaml:4:\d+: .*DOCKER/,
    );
    await expect(queen.applyDefinition('   ')).rejects.toMatchObject({ code: 'invalid', field: 'source' });
  });
});

describe('Queen: requests', () => {
  it('validates submissions and queries, naming the field', async () => {
    const queen = await startQueen();
    await queen.applyDefinition(source('ok', [{ task_type: 'a' }]));
    await expect(queen.submit({ jobType: 'missing' })).rejects.toMatchObject({ code: 'not_found', field: 'jobType' });
    await expect(queen.submit({ jobType: '' })).rejects.toMatchObject({ code: 'invalid', field: 'jobType' });
    await expect(queen.submit({ jobType: 'ok', priority: 101 })).rejects.toMatchObject({ code: 'invalid', field: 'priority' });
    await expect(queen.submit({ jobType: 'ok', priority: 1.5 })).rejects.toBeInstanceOf(QueenError);
    await expect(queen.submit({ jobType: 'ok', params: [] as never })).rejects.toMatchObject({ field: 'params' });
    await expect(queen.submit({ jobType: 'ok', scheduledAt: new Date('nope') })).rejects.toMatchObject({ field: 'scheduledAt' });
    await expect(queen.listJobs({ limit: 0 })).rejects.toMatchObject({ field: 'limit' });
    await expect(queen.listJobs({ state: 'DONE' as never })).rejects.toMatchObject({ field: 'state' });
    await expect(queen.cancel('nope')).rejects.toMatchObject({ code: 'not_found' });
    expect(await queen.getJob('nope')).toBeUndefined();
    expect((await queen.listJobs({ count: 'exact' })).total).toBe(0);
  });

  it('lists jobs by state and type with pagination', async () => {
    const queen = await startQueen();
    await queen.applyDefinition(source('one', [{ task_type: 'a' }]));
    await queen.applyDefinition(source('two', [{ task_type: 'a', script: ['exit 1'] }]));
    const ids = [
      await queen.submit({ jobType: 'one' }),
      await queen.submit({ jobType: 'two' }),
      await queen.submit({ jobType: 'one' }),
    ].map((j) => j.id);
    for (const id of ids) await finished(queen, id);
    expect((await queen.listJobs({ jobType: 'one' })).items.map((j) => j.id)).toEqual([ids[2], ids[0]]);
    expect((await queen.listJobs({ state: 'FAILED' })).items.map((j) => j.id)).toEqual([ids[1]]);
    const page = await queen.listJobs({ limit: 2, offset: 2, count: 'exact' });
    expect([page.total, page.items.map((j) => j.id)]).toEqual([3, [ids[0]]]);
  });

  it('every transition is announced as committed, in the order of the stored timeline', async () => {
    const queen = await startQueen();
    const seen: TimelineEvent[] = [];
    const off = queen.onTransition((event) => seen.push(event));
    await queen.applyDefinition(source('t', [{ task_type: 'a' }, { task_type: 'b', needs: ['a'] }]));
    const job = await queen.submit({ jobType: 't' });
    const done = await finished(queen, job.id);
    off();
    expect(seen.filter((e) => e.jobId === job.id)).toEqual(done.timeline);
    expect(done.timeline.map((e) => `${e.taskType ?? 'job'}:${e.from ?? ''}>${e.to}`)).toEqual([
      'job:>PENDING',
      'job:PENDING>READY',
      'a:PENDING>READY',
      'a:READY>EXECUTING',
      'job:READY>EXECUTING',
      'a:EXECUTING>COMPLETED',
      'b:PENDING>READY',
      'b:READY>EXECUTING',
      'b:EXECUTING>COMPLETED',
      'job:EXECUTING>COMPLETED',
    ]);
  });
});

describe('Queen: cancel, restart, timeouts, logs, stop', () => {
  it('cancel kills running SHELL tasks, runs nothing new (not even always_run); a soft restart resumes', async () => {
    const flag = join(dirname(tempDb()), 'go');
    const queen = await startQueen();
    await queen.applyDefinition(
      source('cancel-me', [
        { task_type: 'quick', script: ['out Q 1'] },
        {
          task_type: 'long',
          method: 'SHELL',
          script: ['sleep 30 &', 'echo "::set-output name=PID::$$ $!"', `test -f ${flag} || sleep 30`],
          needs: ['quick'],
        },
        { task_type: 'after', needs: ['long'] },
        { task_type: 'cleanup', always_run: true },
      ]),
    );
    const job = await queen.submit({ jobType: 'cancel-me' });
    await until(async () => (await queen.logs(job.id, { taskType: 'long' })).length > 0);
    const cancelled = await queen.cancel(job.id, 'user asked');
    expect(cancelled).toMatchObject({ state: 'CANCELLED', reason: 'user asked' });
    const detail = (await queen.getJob(job.id))!;
    expect(taskStates(detail)).toEqual({ quick: 'COMPLETED', long: 'CANCELLED', after: 'CANCELLED', cleanup: 'CANCELLED' });
    expect(detail.tasks[1]!.attempts).toMatchObject([{ state: 'CANCELLED' }]);
    await expect(queen.cancel(job.id)).rejects.toMatchObject({ code: 'conflict' });
    // The shell and the background child it started: the whole process group dies.
    const pids = (await queen.logs(job.id, { taskType: 'long' }))[0]!.text.split('::')[2]!.split(' ').map(Number);
    expect(pids).toHaveLength(2);
    for (const pid of pids) expect(await until(async () => !isAlive(pid))).toBe(true);

    writeFileSync(flag, '');
    await queen.restart(job.id);
    const resumed = await finished(queen, job.id);
    expect(resumed.state).toBe('COMPLETED');
    expect(resumed.tasks.map((t) => [t.taskType, t.state, t.attempts.length])).toEqual([
      ['quick', 'COMPLETED', 1],
      ['long', 'COMPLETED', 2],
      ['after', 'COMPLETED', 1],
      ['cleanup', 'COMPLETED', 1],
    ]);
  });

  it('restart re-runs failed and skipped tasks and keeps completed ones; hard re-runs all', async () => {
    const queen = await startQueen();
    await queen.applyDefinition(
      source('restartable', [
        { task_type: 'first', script: ['out F ok'] },
        { task_type: 'second', script: ['exits 1,0,0'], needs: ['first'] },
        { task_type: 'third', needs: ['second'] },
      ]),
    );
    const job = await queen.submit({ jobType: 'restartable' });
    const failed = await finished(queen, job.id);
    expect(taskStates(failed)).toEqual({ first: 'COMPLETED', second: 'FAILED', third: 'SKIPPED' });
    expect((await queen.restart(job.id)).state).toBe('PENDING');
    const soft = await finished(queen, job.id);
    expect(soft.state).toBe('COMPLETED');
    expect(soft.tasks.map((t) => t.attempts.length)).toEqual([1, 2, 1]);
    await expect(queen.restart(job.id)).rejects.toMatchObject({ code: 'conflict' });

    const other = await queen.submit({ jobType: 'restartable' });
    await finished(queen, other.id);
    await queen.restart(other.id, { hard: true });
    const hard = await finished(queen, other.id);
    expect(hard.tasks.map((t) => t.attempts.length)).toEqual([2, 2, 1]);
    expect(hard.timeline.find((e) => !e.taskType && e.to === 'PENDING' && e.from === 'FAILED')?.reason).toBe('restarted (hard)');
  });

  it('a job timeout kills running tasks, fails the job with "job timeout" and still runs always_run', async () => {
    const queen = await startQueen();
    await queen.applyDefinition(
      source(
        'slow',
        [
          { task_type: 'work', method: 'SHELL', script: ['sleep 30'] },
          { task_type: 'next', needs: ['work'] },
          { task_type: 'cleanup', always_run: true, script: ['log cleaned'] },
        ],
        { timeout: '300ms' },
      ),
    );
    const started = Date.now();
    const done = await finished(queen, (await queen.submit({ jobType: 'slow' })).id);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(done).toMatchObject({ state: 'FAILED', reason: 'job timeout' });
    expect(taskStates(done)).toEqual({ work: 'FAILED', next: 'SKIPPED', cleanup: 'COMPLETED' });
    expect(done.tasks[0]!.reason).toBe('job timeout');
  });

  it('a task timeout fails the attempt (and retries it)', async () => {
    const queen = await startQueen();
    await queen.applyDefinition(source('t-out', [{ task_type: 'a', method: 'SHELL', script: ['sleep 30'], timeout: '200ms', retry: 1 }]));
    const done = await finished(queen, (await queen.submit({ jobType: 't-out' })).id);
    expect(done.tasks[0]!.attempts.map((a) => [a.state, a.reason])).toEqual([
      ['FAILED', 'timed out after 200ms; retry 1 of 1 in 0s'],
      ['FAILED', 'timed out after 200ms'],
    ]);
  });

  it('follows logs live and ends when the job ends', async () => {
    const queen = await startQueen();
    await queen.applyDefinition(
      source('chatty', [{ task_type: 'a', method: 'SHELL', script: ['echo one', 'sleep 0.2', 'echo two >&2', 'echo three'] }]),
    );
    const job = await queen.submit({ jobType: 'chatty' });
    const lines: LogLine[] = [];
    await new Promise<void>((resolve) => queen.followLogs(job.id, {}, (line) => lines.push(line), resolve));
    expect(lines.map((l) => [l.stream, l.text])).toEqual([
      ['stdout', 'one'],
      ['stderr', 'two'],
      ['stdout', 'three'],
    ]);
    const replay: LogLine[] = [];
    await new Promise<void>((resolve) => queen.followLogs(job.id, { afterSeq: lines[0]!.seq }, (line) => replay.push(line), resolve));
    expect(replay).toEqual(lines.slice(1));
  });

  it('stop lets running tasks finish within the grace period', async () => {
    const dbPath = tempDb();
    const queen = await Queen.open({ dbPath, ant: { capacity: 2 }, shutdownGraceMs: 5000 });
    await queen.start();
    await queen.applyDefinition('job_type: graceful\ntasks:\n  - task_type: a\n    script: ["sleep 0.3", "echo finished"]\n');
    const job = await queen.submit({ jobType: 'graceful' });
    await until(async () => (await queen.getJob(job.id))?.state === 'EXECUTING');
    await queen.stop();
    expect((await queen.health()).ok).toBe(false);
    const reopened = await Queen.open({ dbPath, ant: { capacity: 0 } });
    expect((await reopened.getJob(job.id))?.state).toBe('COMPLETED');
    await reopened.stop();
  });

  it('stop kills what outlives the grace period and leaves it to recovery on the next start', async () => {
    const dbPath = tempDb();
    const queen = await Queen.open({ dbPath, ant: { capacity: 2 }, shutdownGraceMs: 100, shell: { killGraceMs: 200 } });
    await queen.start();
    await queen.applyDefinition('job_type: stubborn\ntasks:\n  - task_type: a\n    script: ["echo $$", "sleep 30"]\n');
    const job = await queen.submit({ jobType: 'stubborn' });
    await until(async () => (await queen.logs(job.id)).length > 0);
    const pid = Number((await queen.logs(job.id))[0]!.text);
    const stopping = Date.now();
    await queen.stop();
    expect(Date.now() - stopping).toBeLessThan(3000);
    expect(isAlive(pid)).toBe(false);
    const next = await startQueen({ dbPath });
    const done = await finished(next, job.id);
    expect(done).toMatchObject({ state: 'FAILED', reason: 'task a failed: queen stopped' });
    expect(done.tasks[0]!.attempts.map((a) => [a.state, a.reason])).toEqual([['FAILED', 'queen stopped']]);
  });

  it('cancels a job that has not started and restarts it', async () => {
    const queen = await startQueen();
    await queen.applyDefinition(source('later-2', [{ task_type: 'a' }]));
    const job = await queen.submit({ jobType: 'later-2', scheduledAt: new Date(Date.now() + 60_000) });
    expect((await queen.cancel(job.id)).state).toBe('CANCELLED');
    expect(taskStates((await queen.getJob(job.id))!)).toEqual({ a: 'CANCELLED' });
    await queen.restart(job.id);
    expect((await finished(queen, job.id)).state).toBe('COMPLETED');
  });

  it('pause lets the running task finish and starts nothing new until resume', async () => {
    const queen = await startQueen();
    await queen.applyDefinition(
      source('pausable', [
        { task_type: 'a', script: ['sleep 300', 'out A done'] },
        { task_type: 'b', needs: ['a'], script: ['out B {{.A}}'] },
      ]),
    );
    const job = await queen.submit({ jobType: 'pausable' });
    await until(async () => (await queen.getJob(job.id))?.state === 'EXECUTING');
    expect(await queen.pause(job.id, 'maintenance')).toMatchObject({ state: 'PAUSED', reason: 'maintenance' });
    await until(async () => (await queen.getJob(job.id))?.tasks[0]?.state === 'COMPLETED');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const paused = (await queen.getJob(job.id))!;
    expect(paused.state).toBe('PAUSED');
    expect(taskStates(paused)).toEqual({ a: 'COMPLETED', b: 'READY' });
    expect((await queen.resume(job.id)).state).toBe('EXECUTING');
    const done = await finished(queen, job.id);
    expect(done.state).toBe('COMPLETED');
    expect(done.tasks[1]?.outputs).toEqual({ B: 'done' });
    const jobEvents = done.timeline.filter((e) => !e.taskType).map((e) => [e.from, e.to, e.reason]);
    expect(jobEvents).toContainEqual(['EXECUTING', 'PAUSED', 'maintenance']);
    expect(jobEvents).toContainEqual(['PAUSED', 'EXECUTING', 'resumed']);
  });

  it('pauses only READY or EXECUTING jobs, resumes only PAUSED ones, and cancels a paused job', async () => {
    const queen = await startQueen();
    await queen.applyDefinition(source('p2', [{ task_type: 'a', script: ['sleep 5000'] }]));
    const later = await queen.submit({ jobType: 'p2', scheduledAt: new Date(Date.now() + 60_000) });
    await expect(queen.pause(later.id)).rejects.toMatchObject({ code: 'conflict', message: expect.stringContaining('PENDING') });
    await expect(queen.resume(later.id)).rejects.toMatchObject({ code: 'conflict' });
    await expect(queen.pause('no-such-job')).rejects.toMatchObject({ code: 'not_found', field: 'id' });
    const job = await queen.submit({ jobType: 'p2' });
    await until(async () => (await queen.getJob(job.id))?.state === 'EXECUTING');
    await queen.pause(job.id);
    await expect(queen.pause(job.id)).rejects.toMatchObject({ code: 'conflict' });
    expect((await queen.cancel(job.id)).state).toBe('CANCELLED');
    expect(taskStates((await queen.getJob(job.id))!)).toEqual({ a: 'CANCELLED' });
    await expect(queen.resume(job.id)).rejects.toMatchObject({ code: 'conflict' });
  });

  it('a paused job keeps its max_concurrency place: the next job of its type waits for it', async () => {
    const queen = await startQueen();
    await queen.applyDefinition(
      source(
        'one-at-a-time',
        [
          { task_type: 'a', script: ['sleep 100'] },
          { task_type: 'b', needs: ['a'] },
        ],
        { max_concurrency: 1 },
      ),
    );
    const first = await queen.submit({ jobType: 'one-at-a-time' });
    await until(async () => (await queen.getJob(first.id))?.state === 'EXECUTING');
    await queen.pause(first.id);
    const second = await queen.submit({ jobType: 'one-at-a-time' });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect((await queen.getJob(second.id))?.state).toBe('PENDING');
    expect((await queen.getJob(first.id))?.state).toBe('PAUSED');
    await queen.resume(first.id);
    const [a, b] = [await finished(queen, first.id), await finished(queen, second.id)];
    expect([a.state, b.state]).toEqual(['COMPLETED', 'COMPLETED']);
    expect(b.startedAt!.getTime()).toBeGreaterThanOrEqual(a.endedAt!.getTime());
  });

  it('runs a second queen on the same database beside the first: both take work, each job runs once', async () => {
    const dbPath = tempDb();
    const first = await startQueen({ dbPath, ant: { capacity: 2, id: 'first' } });
    const second = await startQueen({ dbPath, ant: { capacity: 2, id: 'second' } });
    await first.applyDefinition('job_type: shared\ntasks:\n  - task_type: a\n    script: ["sleep 0.05"]\n');
    const jobs = await Promise.all(Array.from({ length: 12 }, () => first.submit({ jobType: 'shared' })));
    const done = await Promise.all(jobs.map((job) => finished(second, job.id)));
    expect(done.map((job) => job.state)).toEqual(jobs.map(() => 'COMPLETED'));
    const ants = new Set(done.map((job) => job.tasks[0]!.attempts[0]!.antId));
    expect(done.every((job) => job.tasks[0]!.attempts.length === 1)).toBe(true);
    expect(ants).toEqual(new Set(['first', 'second']));
  });

  it('reports health and its ant', async () => {
    const queen = await startQueen({ ant: { capacity: 3, tags: ['a'], id: 'local' } });
    expect(await queen.health()).toMatchObject({ ok: true, store: expect.stringMatching(/^sqlite:.*myrmex\.db$/) });
    expect(await queen.ants()).toMatchObject([{ id: 'local', capacity: 3, tags: ['a'], running: 0 }]);
  });
});

import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JobDetail } from '@myrmex/orchestrator';
import { describe, expect, it } from 'vitest';
import { isAlive } from '../../executors/processes.js';
import { type Proc, type QueenProc, startAnt, startQueen, until, useFrontQueen } from './harness.js';

const TOKEN = 'remote-ant-test-token-0123456789';
const fx = useFrontQueen('myrmex-remote-ant-');
const { procs, finished } = fx;

const queen = async (leaseMs = 1500): Promise<QueenProc> => {
  const q = await startQueen({ db: fx.db, tokens: TOKEN, leaseMs });
  procs.push(q);
  return q;
};
const ant = async (options: Parameters<typeof startAnt>[0]): Promise<Proc> => {
  const a = await startAnt({ stateDir: join(fx.dir, `state-${options.id}`), ...options });
  procs.push(a);
  return a;
};

// Up to four processes start per test; on a loaded 2-core machine a start alone can take tens of seconds.
describe('a remote ant in its own process, over WebSocket, on a queen in its own process (SQLite)', { timeout: 240_000 }, () => {
  it('registers, runs a DAG with logs and outputs, and shows in the registry', async () => {
    const q = await queen();
    const a = await ant({
      servers: [q.url],
      token: TOKEN,
      id: 'ant-a',
      tags: ['linux'],
      labels: { zone: 'eu-1' },
      resources: { cpu: '8' },
    });
    await a.line(/^connected /);
    await fx.front.applyDefinition(`job_type: remote-dag
tasks:
  - task_type: first
    tags: [linux]
    script: ['echo hello from $(hostname)', 'echo "::set-output greeting::hi"']
    on_completed: second
  - task_type: second
    script: ['echo second']
`);
    const job = await finished((await fx.front.submit({ jobType: 'remote-dag' })).id);
    expect(job.state).toBe('COMPLETED');
    expect(job.tasks.every((t) => t.attempts[0]?.antId === 'ant-a')).toBe(true);
    const logs = await fx.front.logs(job.id);
    expect(logs.map((l) => l.text)).toContain('second');
    const ants = await fx.front.ants();
    expect(ants).toEqual([
      expect.objectContaining({
        id: 'ant-a',
        remote: true,
        connected: true,
        tags: ['linux'],
        labels: { zone: 'eu-1' },
        resources: { cpu: '8' },
        queen: q.id,
      }),
    ]);
  });

  it('an ant killed with -9 loses its attempt to the reaper ("ant lost"), a second ant runs the retry, and the restarted ant kills the orphan', async () => {
    // Long enough that a live ant's heartbeats keep it under load (a 1.2 s lease was reaped from a live, starved ant,
    // which then stopped the task itself and left no orphan for the ledger); the reaper still acts seconds after the kill.
    const q = await queen(6000);
    const pidFile = join(fx.dir, 'orphan.pid');
    const a = await ant({ servers: [q.url], token: TOKEN, id: 'ant-a', capacity: 1 });
    await a.line(/^connected /);
    await fx.front.applyDefinition(`job_type: lost
tasks:
  - task_type: long
    retry: 2
    script: ['if [ "{{.TaskRetry}}" = "0" ]; then sleep 300 & echo $! > ${pidFile}; wait; else echo done; fi']
`);
    const { id } = await fx.front.submit({ jobType: 'lost' });
    const orphan = await until(
      () => (existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) || undefined : undefined),
      'the first attempt to start',
    );
    const ledger = () =>
      readdirSync(join(fx.dir, 'state-ant-a', 'pids')).map((f) => `${f}: ${readFileSync(join(fx.dir, 'state-ant-a', 'pids', f), 'utf8')}`);
    expect(ledger()).toEqual([expect.stringMatching(/^\d+\.pids: \d+$/)]);
    await a.kill9();
    await ant({ servers: [q.url], token: TOKEN, id: 'ant-b', capacity: 1 });
    const job = await finished(id);
    expect(job.state).toBe('COMPLETED');
    const [first, second] = job.tasks[0]!.attempts;
    expect(first).toMatchObject({ state: 'FAILED', antId: 'ant-a' });
    expect(first!.reason).toMatch(/^ant lost/);
    expect(second).toMatchObject({ state: 'COMPLETED', antId: 'ant-b' });
    // The queen's machine cannot kill it (pids mean nothing off the ant's host); ant-a's next run does, from its own state.
    expect(isAlive(orphan)).toBe(true);
    const again = await ant({ servers: [q.url], token: TOKEN, id: 'ant-a', capacity: 1 });
    await again.line(/^connected /);
    await until(() => !isAlive(orphan), 'the orphan to be killed').catch((error: Error) => {
      throw new Error(
        `${error.message}; ant-a's ledger holds ${JSON.stringify(ledger())}; the restarted ant printed ${JSON.stringify(again.lines)}`,
      );
    });
  });

  it('a queen killed with -9 mid-task: the ant reconnects to another queen and its result is accepted once', async () => {
    const q1 = await queen(4000);
    const q2 = await queen(4000);
    const effects = join(fx.dir, 'effects');
    const gate = join(fx.dir, 'gate');
    const a = await ant({ servers: [q1.url, q2.url], token: TOKEN, id: 'ant-a' });
    await a.line(/^connected /);
    await fx.front.applyDefinition(`job_type: survive
tasks:
  - task_type: t
    retry: 2
    script: ['echo "{{.JobID}} {{.TaskRetry}}" >> ${effects}', 'while [ ! -e ${gate} ]; do sleep 0.05; done', 'echo finished']
`);
    const { id } = await fx.front.submit({ jobType: 'survive' });
    await until(() => existsSync(effects), 'the task to start');
    const connectedTo = a.lines.find((l) => l.startsWith('connected '))!.split(' ')[1];
    const victim = connectedTo === q1.id ? q1 : q2;
    await victim.kill9();
    await until(() => a.count(/^connected /) >= 2, 'the ant to reconnect to the other queen');
    // The task went on through the outage; it finishes after the move.
    writeFileSync(gate, '');
    const job: JobDetail = await finished(id);
    expect(job.state).toBe('COMPLETED');
    expect(job.tasks[0]!.attempts).toHaveLength(1);
    expect(readFileSync(effects, 'utf8').trim().split('\n')).toEqual([`${id} 0`]);
    expect((await fx.front.logs(id)).map((l) => l.text)).toContain('finished');
  });
});

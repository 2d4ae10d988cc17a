import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { PostgresStore, Queen } from '@myrmex/orchestrator';
import { postgres } from '@myrmex/test-utils';
import { expect, it } from 'vitest';
import { finished } from '../queen/helpers.js';

const gate = await postgres();
const here = dirname(fileURLToPath(import.meta.url));

function startQueenProcess(url: string, ant: object): Promise<{ child: ChildProcess; id: string }> {
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', join(here, 'placement-queen.ts'), url, JSON.stringify(ant)],
    {
      cwd: join(here, '..', '..'),
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, MYRMEX_LOG_LEVEL: 'silent' },
    },
  );
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`queen process exited early (${code})`)));
    createInterface({ input: child.stdout! }).once('line', (line) => resolve({ child, id: line.split(' ')[1]! }));
  });
}

const stopped = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    child.removeAllListeners('exit');
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });

/** The most tasks the log shows running at once: each appends `start` first and `end` last, so the file's order is causal. */
function mostAtOnce(log: string): number {
  let running = 0;
  let most = 0;
  for (const line of log.split('\n')) {
    if (line.startsWith('start ')) most = Math.max(most, ++running);
    else if (line.startsWith('end ')) running--;
  }
  return most;
}

gate.describe('placement by resources across queen processes on PostgreSQL', () => {
  it('two queens placing gpu=1 tasks onto one ant that has gpu=2 never run more than two at once', async () => {
    const db = await gate.freshDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'myrmex-placement-'));
    const log = join(dir, 'log');
    const queens: ChildProcess[] = [];
    // This process only submits and reads: no ant, so it places nothing itself.
    const front = await Queen.open({ store: PostgresStore.open({ url: db.url }), ant: { capacity: 0 } });
    const reads = PostgresStore.open({ url: db.url });
    try {
      await front.start();
      await front.applyDefinition(
        [
          'job_type: gpu-work',
          'tasks:',
          '  - task_type: train',
          '    resources: { gpu: 1 }',
          `    script: ['echo "start {{.JobID}}" >> ${log}', 'sleep 0.2', 'echo "end {{.JobID}}" >> ${log}']`,
          '',
        ].join('\n'),
      );
      // One host's two GPUs, offered by the embedded ant of each of two queens: eight slots each, so only gpu limits.
      const ant = { id: 'shared-box', resources: { gpu: '2' } };
      const started = await Promise.all([startQueenProcess(db.url, ant), startQueenProcess(db.url, ant)]);
      queens.push(...started.map((q) => q.child));
      const ids: string[] = [];
      for (let i = 0; i < 16; i++) ids.push((await front.submit({ jobType: 'gpu-work' })).id);
      for (const id of ids) expect((await finished(front, id, 120_000)).state).toBe('COMPLETED');

      expect(mostAtOnce(readFileSync(log, 'utf8'))).toBeLessThanOrEqual(2);
      const attempts = (await Promise.all(ids.map((id) => reads.attempts(id)))).flat();
      expect(attempts.every((a) => a.antId === 'shared-box')).toBe(true);
      // Both queens placed work on the ant: each one's claims raced the other's.
      const owners = new Set(attempts.map((a) => a.owner));
      expect(owners).toEqual(new Set(started.map((q) => q.id)));
    } finally {
      await Promise.all(queens.map(stopped));
      await front.stop();
      await reads.close();
      await db.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});

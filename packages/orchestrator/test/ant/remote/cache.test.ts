import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Proc, type QueenProc, startAnt, startQueen, useFrontQueen } from './harness.js';

/**
 * `cache:` on remote ants in their own processes: the archive an attempt saves goes up to the queen
 * like an artifact and is recorded with the result; an attempt on another ant downloads the saved
 * archive its key names and restores it before the task runs.
 */
const TOKEN = 'cache-ant-test-token-0123456789abcd';
const fx = useFrontQueen('myrmex-ant-cache-');
const { procs, finished } = fx;

const ant = async (q: QueenProc, id: string): Promise<Proc> => {
  const a = await startAnt({ servers: [q.url], token: TOKEN, id, stateDir: join(fx.dir, `state-${id}`) });
  procs.push(a);
  await a.line(/^connected /);
  return a;
};

describe('caches on remote ants', () => {
  it('a cache saved on one ant is restored on another, through the queen', async () => {
    const q = await startQueen({ db: fx.db, tokens: TOKEN, leaseMs: 3000, artifactsDir: join(fx.dir, 'artifacts') });
    procs.push(q);
    await fx.front.applyDefinition(`job_type: remote-cache
tasks:
- task_type: build
  cache: { key: deps, paths: [deps] }
  script: ['if [ -f deps/made-by ]; then echo "HIT $(cat deps/made-by)"; else mkdir deps && echo "{{.Run}}" > deps/made-by && echo MISS; fi']
`);
    const run = async (Run: string) => {
      const { id } = await fx.front.submit({ jobType: 'remote-cache', params: { Run } });
      const job = await finished(id);
      const logs = await fx.front.logs(id);
      expect(job.state, logs.map((l) => l.text).join('\n')).toBe('COMPLETED');
      return {
        antId: job.tasks[0]?.attempts[0]?.antId,
        out: logs.filter((l) => l.stream === 'stdout').map((l) => l.text.trim()),
        system: logs.filter((l) => l.stream === 'system').map((l) => l.text),
      };
    };
    const first = await ant(q, 'ant-a');
    const saved = await run('first');
    expect(saved).toMatchObject({ antId: 'ant-a', out: ['MISS'] });
    expect(saved.system.some((l) => /^uploaded cache deps \(\d+ bytes\) to the queen$/.test(l))).toBe(true);
    // ant-a leaves (a drain: the queen forgets it at once), so the next attempt runs on ant-b, whose store is empty.
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    await ant(q, 'ant-b');
    const restored = await run('second');
    expect(restored).toMatchObject({ antId: 'ant-b', out: ['HIT first'] });
    expect(restored.system.some((l) => /^cache deps: restored deps \(\d+ bytes\)$/.test(l))).toBe(true);
  }, 120_000);
});

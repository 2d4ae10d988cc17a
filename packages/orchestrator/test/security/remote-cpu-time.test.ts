import { join } from 'node:path';
import { openStoreSync } from '@myrmex/orchestrator';
import { describe, expect, it } from 'vitest';
import { startAnt, startQueen, useFrontQueen } from '../ant/remote/harness.js';

const TOKEN = 'cpu-time-ant-token-0123456789abcdef';
const fx = useFrontQueen('myrmex-remote-cpu-');

const job = (jobType: string, line: string) =>
  `job_type: ${jobType}\ntasks:\n  - task_type: a\n    method: SHELL\n    script: ["${line}"]\n`;

describe('CPU time measured on a remote ant', () => {
  it('is sent with the result and charged to CPU-hours: a sleeping task costs almost nothing, a busy one its CPU', async () => {
    const side = openStoreSync(fx.db);
    try {
      await side.quotas().setLimit({ org: 'default', resource: 'cpu_hours', hard: 10, period: 'daily' }, new Date());
      const q = await startQueen({ db: fx.db, tokens: TOKEN, leaseMs: 3000 });
      fx.procs.push(q);
      const ant = await startAnt({ servers: [q.url], token: TOKEN, id: 'ant-cpu', tags: [], stateDir: join(fx.dir, 'state-ant-cpu') });
      fx.procs.push(ant);
      await ant.line(/^connected /);
      const used = async () => ((await side.quotas().usage('default', Date.now()))[0]?.used ?? 0) * 3_600_000;
      await fx.front.applyDefinition(job('nap', 'sleep 0.5'));
      await fx.front.applyDefinition(job('spin', 'i=0; while [ $i -lt 400000 ]; do i=$((i+1)); done'));
      const nap = await fx.finished((await fx.front.submit({ jobType: 'nap' })).id);
      expect(nap.tasks[0]?.attempts[0]?.antId).toBe('ant-cpu');
      expect(nap.state).toBe('COMPLETED');
      // Wall clock would be at least 500 ms.
      const napped = await used();
      expect(napped).toBeLessThan(50);
      const spin = await fx.finished((await fx.front.submit({ jobType: 'spin' })).id);
      expect(spin.state).toBe('COMPLETED');
      expect((await used()) - napped).toBeGreaterThanOrEqual(100);
    } finally {
      await side.close();
    }
  }, 120_000);
});

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startAnt, startQueen, useFrontQueen } from '../ant/remote/harness.js';

const TOKEN = 'placement-taints-token-0123456789';
const fx = useFrontQueen('myrmex-placement-taints-');

describe('a remote ant advertises taints; the queen places on it only what tolerates them', { timeout: 240_000 }, () => {
  it('an ant process tainted gpu=true:NoSchedule runs the tolerating task and never the one submitted before it', async () => {
    const queen = await startQueen({ db: fx.db, tokens: TOKEN, leaseMs: 5000 });
    fx.procs.push(queen);
    const ant = await startAnt({
      servers: [queen.url],
      token: TOKEN,
      id: 'gpu',
      capacity: 2,
      taints: ['gpu=true:NoSchedule'],
      stateDir: join(fx.dir, 'gpu'),
    });
    fx.procs.push(ant);
    await ant.line(/^connected /);
    await fx.front.applyDefinition("job_type: plain\ntasks:\n  - task_type: run\n    script: ['echo ok']\n");
    await fx.front.applyDefinition(
      "job_type: tolerant\ntasks:\n  - task_type: run\n    tolerations: [{ key: gpu, operator: Exists, effect: NoSchedule }]\n    script: ['echo ok']\n",
    );
    // Submitted first at the same priority: had the taint been ignored, it would have started first.
    const plain = await fx.front.submit({ jobType: 'plain' });
    const tolerant = await fx.front.submit({ jobType: 'tolerant' });
    const done = await fx.finished(tolerant.id);
    expect(done.state).toBe('COMPLETED');
    expect(done.tasks[0]!.attempts[0]!.antId).toBe('gpu');
    expect((await fx.front.getJob(plain.id))?.tasks[0]?.state).toBe('READY');
  });
});

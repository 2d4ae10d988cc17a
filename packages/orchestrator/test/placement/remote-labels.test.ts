import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Proc, startAnt, startQueen, useFrontQueen } from '../ant/remote/harness.js';

const TOKEN = 'placement-labels-token-0123456789';
const fx = useFrontQueen('myrmex-placement-labels-');

describe('remote ants advertise labels and resources; the queen places by them', { timeout: 240_000 }, () => {
  it('an ant process receives only the tasks whose node_selector, affinity and resources it satisfies', async () => {
    const queen = await startQueen({ db: fx.db, tokens: TOKEN, leaseMs: 5000 });
    fx.procs.push(queen);
    const ant = async (id: string, labels: Record<string, string>, resources: Record<string, string>): Promise<Proc> => {
      const a = await startAnt({ servers: [queen.url], token: TOKEN, id, capacity: 4, labels, resources, stateDir: join(fx.dir, id) });
      fx.procs.push(a);
      await a.line(/^connected /);
      return a;
    };
    await ant('fast', { disk: 'ssd', zone: 'a' }, { cpu: '8', memory: '16Gi' });
    await ant('slow', { disk: 'hdd', zone: 'b' }, { cpu: '2', memory: '4Gi' });
    const job = (jobType: string, placement: string) =>
      fx.front.applyDefinition(`job_type: ${jobType}\ntasks:\n  - task_type: run\n${placement}    script: ['echo ok']\n`);
    await job('on-ssd', '    node_selector: { disk: ssd }\n');
    await job('on-hdd', '    node_selector: { disk: hdd }\n');
    await job('large', '    resources: { cpu: 4, memory: 8192 }\n');
    await job(
      'not-zone-a',
      "    affinity:\n      required:\n        - match_expressions: [{ key: zone, operator: NotIn, values: ['a'] }]\n",
    );
    const expected: Record<string, string> = { 'on-ssd': 'fast', 'on-hdd': 'slow', large: 'fast', 'not-zone-a': 'slow' };
    const ids: [string, string][] = [];
    for (let i = 0; i < 3; i++) for (const jobType of Object.keys(expected)) ids.push([jobType, (await fx.front.submit({ jobType })).id]);
    for (const [jobType, id] of ids) {
      const done = await fx.finished(id);
      expect(done.state).toBe('COMPLETED');
      expect({ jobType, ant: done.tasks[0]!.attempts[0]!.antId }).toEqual({ jobType, ant: expected[jobType] });
    }
  });
});

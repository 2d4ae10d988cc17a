import { type AntSlot, NO_NEEDS, quantities, quantity, whyNoAnt } from '@myrmex/orchestrator';
import { describe, expect, it } from 'vitest';
import { finished, source, startQueen, until } from '../queen/helpers.js';

describe('advertised quantities', () => {
  it('reads cpu in cores, memory and storage in MiB, named resources as counts', () => {
    expect(quantities({ cpu: '8', memory: '16Gi', storage: '1Ti', gpu: '2' })).toEqual({
      cpu: 8,
      memory: 16_384,
      storage: 1_048_576,
      gpu: 2,
    });
    expect(quantity('cpu', '500m')).toBe(0.5);
    expect(quantity('memory', '512')).toBe(512);
    expect(quantity('memory', '1G')).toBeCloseTo(953.67, 2);
  });

  it('names the resource and the value it cannot read', () => {
    expect(() => quantity('memory', '16 gigs')).toThrow(
      "resource memory: expected a quantity such as 8, 500m, 512Mi or 16Gi, got '16 gigs'",
    );
    expect(() => quantity('memory', '500m')).toThrow("resource memory: 'm' is milli; write Mi for mebibytes");
  });
});

const ant = (id: string, fields: Partial<AntSlot> = {}): AntSlot => ({
  id,
  methods: new Set(['SHELL']),
  tags: new Set(),
  capacity: 4,
  running: 0,
  ...fields,
});

describe('why no ant can run a task', () => {
  const task = { method: 'SHELL', tags: [] as string[], needs: NO_NEEDS };
  it('names the first thing no ant has', () => {
    expect(whyNoAnt(task, [])).toBe('no ant is connected');
    expect(whyNoAnt({ ...task, method: 'DOCKER' }, [ant('a')])).toBe('no ant runs method DOCKER');
    expect(whyNoAnt({ ...task, tags: ['gpu'] }, [ant('a')])).toBe('no ant has tags [gpu]');
    const ssd = { ...task, needs: { ...NO_NEEDS, nodeSelector: { disk: 'ssd' } } };
    expect(whyNoAnt(ssd, [ant('a', { labels: { disk: 'hdd' } })])).toBe('no ant matches node_selector disk=ssd');
    expect(whyNoAnt(ssd, [ant('a', { labels: { disk: 'hdd' } }), ant('b', { labels: { disk: 'ssd' } })])).toBeUndefined();
    const big = { ...task, needs: { ...NO_NEEDS, resources: { cpu: 8 } } };
    expect(whyNoAnt(big, [ant('a', { resources: { cpu: 4 } })])).toBe('no ant has resources cpu=8');
    // Busy is not "cannot": an ant large enough but full makes the task wait, not be unplaceable.
    expect(whyNoAnt(big, [ant('a', { resources: { cpu: 8 }, used: { cpu: 8 } })])).toBeUndefined();
    // An ant that advertises no resources is not metered.
    expect(whyNoAnt(big, [ant('a')])).toBeUndefined();
    const zone = { ...task, needs: { ...NO_NEEDS, required: [[{ key: 'zone', operator: 'In' as const, values: ['a', 'b'] }]] } };
    expect(whyNoAnt(zone, [ant('a', { labels: { zone: 'c' } })])).toBe('no ant matches affinity zone In [a, b]');
  });
});

describe('placement in a queen', () => {
  it('runs a task on the ant whose labels and resources fit, and says why the others wait', async () => {
    const queen = await startQueen({ ant: { capacity: 4, labels: { disk: 'hdd' }, resources: { cpu: '4', memory: '8Gi' } } });
    await queen.applyDefinition(source('fits', [{ task_type: 'a', node_selector: { disk: 'hdd' }, resources: { cpu: 2, memory: 4096 } }]));
    await queen.applyDefinition(source('ssd', [{ task_type: 'a', node_selector: { disk: 'ssd' } }]));
    await queen.applyDefinition(source('big', [{ task_type: 'a', resources: { cpu: 8 } }]));
    await queen.applyDefinition(
      source('zoned', [{ task_type: 'a', affinity: { required: [{ match_expressions: [{ key: 'zone', operator: 'Exists' }] }] } }]),
    );
    // Kubernetes' node affinity, as a Formicary KUBERNETES task writes it, is matched against the same labels.
    const nodeAffinity = (values: string[]) => ({
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: 'disk', operator: 'In', values }] }],
        },
      },
    });
    await queen.applyDefinition(source('hdd-affinity', [{ task_type: 'a', affinity: nodeAffinity(['hdd', 'nvme']) }]));
    await queen.applyDefinition(source('ssd-affinity', [{ task_type: 'a', affinity: nodeAffinity(['ssd']) }]));
    expect((await finished(queen, (await queen.submit({ jobType: 'hdd-affinity' })).id)).state).toBe('COMPLETED');
    const ok = await queen.submit({ jobType: 'fits' });
    expect((await finished(queen, ok.id)).state).toBe('COMPLETED');
    for (const [jobType, reason] of [
      ['ssd', 'task a waits: no ant matches node_selector disk=ssd'],
      ['big', 'task a waits: no ant has resources cpu=8'],
      ['zoned', 'task a waits: no ant matches affinity zone Exists'],
      ['ssd-affinity', 'task a waits: no ant matches affinity disk In [ssd]'],
    ] as const) {
      const job = await queen.submit({ jobType });
      const status = await until(async () => {
        const found = await queen.schedulingStatus(job.id);
        return found?.state === 'READY' ? found : undefined;
      });
      expect(status).toMatchObject({ waiting: true, reason, heldBy: 'placement' });
    }
  });

  it('refuses an affinity of neither form, naming the key that fits neither at its own path', async () => {
    const queen = await startQueen();
    // The form is taken by the keys it uses (nodeAffinity: Kubernetes'), so the message names what is wrong inside it.
    await expect(queen.applyDefinition(source('bad', [{ task_type: 'a', affinity: { nodeAffinity: { required: [] } } }]))).rejects.toThrow(
      "tasks[0].affinity.nodeAffinity.required: unknown key 'required'",
    );
  });

  it('refuses an embedded ant whose resources it cannot read, naming the field', async () => {
    await expect(startQueen({ ant: { capacity: 1, resources: { memory: 'lots' } } })).rejects.toThrow(
      "ant.resources: resource memory: expected a quantity such as 8, 500m, 512Mi or 16Gi, got 'lots'",
    );
  });
});

import { type AntSlot, antSettingsFromEnv, antSettingsFromFile, NO_NEEDS, resolveAntSettings, whyNoAnt } from '@myrmex/orchestrator';
import { describe, expect, it } from 'vitest';
import { finished, source, startQueen, until } from '../queen/helpers.js';

const gpuAnt: AntSlot = {
  id: 'a',
  methods: new Set(['SHELL']),
  tags: new Set(),
  capacity: 4,
  running: 0,
  taints: [{ key: 'gpu', value: 'true', effect: 'NoSchedule' }],
};

describe('ant taints and task tolerations', () => {
  it('names the taint no ant tolerated, after everything else the task needs', () => {
    const task = { method: 'SHELL', tags: [] as string[], needs: NO_NEEDS };
    expect(whyNoAnt(task, [gpuAnt])).toBe('no ant tolerated: taint gpu=true:NoSchedule');
    expect(whyNoAnt({ ...task, method: 'DOCKER' }, [gpuAnt])).toBe('no ant runs method DOCKER');
    const tolerant = { ...task, needs: { ...NO_NEEDS, tolerations: [{ key: 'gpu', operator: 'Exists' as const }] } };
    expect(whyNoAnt(tolerant, [gpuAnt])).toBeUndefined();
  });

  it('a queen keeps a task off its tainted ant, saying which taint, and runs one that tolerates it', async () => {
    const queen = await startQueen({ ant: { capacity: 2, taints: ['gpu=true:NoSchedule', 'spot:PreferNoSchedule'] } });
    await queen.applyDefinition(source('plain', [{ task_type: 'a' }]));
    // Kubernetes' list form, as a Formicary KUBERNETES task writes it.
    await queen.applyDefinition(
      source('tolerant', [{ task_type: 'a', tolerations: [{ key: 'gpu', operator: 'Equal', value: 'true', effect: 'NoSchedule' }] }]),
    );
    const plain = await queen.submit({ jobType: 'plain' });
    const status = await until(async () => {
      const found = await queen.schedulingStatus(plain.id);
      return found?.state === 'READY' ? found : undefined;
    });
    expect(status).toMatchObject({
      waiting: true,
      reason: 'task a waits: no ant tolerated: taint gpu=true:NoSchedule',
      heldBy: 'placement',
    });
    expect((await finished(queen, (await queen.submit({ jobType: 'tolerant' })).id)).state).toBe('COMPLETED');
    expect((await queen.getJob(plain.id))?.state).toBe('READY');
  });

  it('refuses an embedded ant taint it cannot read, naming the field', async () => {
    await expect(startQueen({ ant: { capacity: 1, taints: ['gpu=true'] } })).rejects.toThrow(
      "ant.taints: taint 'gpu=true': expected key=value:Effect with Effect one of NoSchedule, PreferNoSchedule",
    );
  });

  it('a remote ant takes its taints from the file, MYRMEX_ANT_TAINTS or --taints, and names one it cannot read', () => {
    const file = antSettingsFromFile('servers: [http://q]\ntoken: t\ntaints: [gpu=true:NoSchedule]\n', 'ant.yaml');
    expect(resolveAntSettings(file).taints).toEqual(['gpu=true:NoSchedule']);
    const env = antSettingsFromEnv({ MYRMEX_ANT_TAINTS: 'gpu=true:NoSchedule, spot:PreferNoSchedule' });
    expect(resolveAntSettings(file, env).taints).toEqual(['gpu=true:NoSchedule', 'spot:PreferNoSchedule']);
    expect(() => resolveAntSettings(file, {}, { taints: ['gpu:Never'] })).toThrow(
      "taints: taint 'gpu:Never': expected key=value:Effect with Effect one of NoSchedule, PreferNoSchedule",
    );
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Ant,
  fcfs,
  formatTaint,
  type PendingJob,
  parseTaint,
  resourcesFit,
  schedulePass,
  type Taint,
  type Toleration,
  taints,
  tolerates,
  untolerated,
} from '../src/index.js';
import { job } from './support.js';

const plugins = [fcfs(), resourcesFit({ fit: 'first-fit' }), taints()];
const gpu: Taint = { key: 'gpu', value: 'true', effect: 'NoSchedule' };

describe('taints and tolerations', () => {
  it('parses and writes the kubectl form, and names a malformed one', () => {
    expect(parseTaint('gpu=true:NoSchedule')).toEqual(gpu);
    expect(parseTaint('spot:PreferNoSchedule')).toEqual({ key: 'spot', effect: 'PreferNoSchedule' });
    expect(formatTaint(parseTaint('a=b=c:NoSchedule'))).toBe('a=b=c:NoSchedule');
    expect(() => parseTaint('gpu=true')).toThrow(
      "taint 'gpu=true': expected key=value:Effect with Effect one of NoSchedule, PreferNoSchedule",
    );
    expect(() => parseTaint('=x:NoSchedule')).toThrow("taint '=x:NoSchedule': the key is empty");
  });

  it('follows Kubernetes: Equal needs the value, Exists any value, no key with Exists every taint, no effect both', () => {
    expect(tolerates({ key: 'gpu', value: 'true' }, gpu)).toBe(true);
    expect(tolerates({ key: 'gpu', value: 'false' }, gpu)).toBe(false);
    expect(tolerates({ key: 'gpu', operator: 'Exists' }, gpu)).toBe(true);
    expect(tolerates({ operator: 'Exists' }, gpu)).toBe(true);
    expect(tolerates({ key: 'gpu', operator: 'Exists', effect: 'PreferNoSchedule' }, gpu)).toBe(false);
    expect(tolerates({ key: 'other', operator: 'Exists' }, gpu)).toBe(false);
  });

  it('keeps a task off an ant whose NoSchedule taint it does not tolerate, naming the taint, and places one that does', () => {
    const ants: Ant[] = [{ id: 'gpu-ant', capacity: { cpu: 4 }, taints: [gpu] }];
    const plain = job('plain');
    const tolerant: PendingJob = job('tolerant', {
      submittedAt: 1,
      tasks: [{ id: 't', resources: { cpu: 1 }, tolerations: [{ key: 'gpu', operator: 'Equal', value: 'true', effect: 'NoSchedule' }] }],
    });
    const { decisions } = schedulePass({ now: 0, pending: [plain, tolerant], running: [], ants }, plugins);
    expect(decisions.find((d) => d.kind === 'hold' && d.jobId === 'plain')).toMatchObject({
      reason: 'no ant tolerated: taint gpu=true:NoSchedule',
    });
    expect(decisions.find((d) => d.kind === 'place' && d.jobId === 'tolerant')).toMatchObject({ placement: { antId: 'gpu-ant' } });
  });

  it('prefers an ant without a PreferNoSchedule taint the task does not tolerate, and uses it when it is the only one', () => {
    const spot: Ant = { id: 'spot', capacity: { cpu: 4 }, taints: [{ key: 'spot', effect: 'PreferNoSchedule' }] };
    const plain: Ant = { id: 'plain', capacity: { cpu: 4 } };
    const placed = (ants: Ant[]) =>
      schedulePass({ now: 0, pending: [job('j')], running: [], ants }, plugins).decisions.flatMap((d) =>
        d.kind === 'place' ? [d.placement.antId] : [],
      );
    expect(placed([spot, plain])).toEqual(['plain']);
    expect(placed([spot])).toEqual(['spot']);
  });

  it('law: no task is placed on an ant with a NoSchedule taint it does not tolerate; a task tolerating everything waits for nothing but room', () => {
    const effect = fc.constantFrom<Taint['effect']>('NoSchedule', 'PreferNoSchedule');
    const taint = fc.record({ key: fc.constantFrom('gpu', 'spot', 'zone'), value: fc.constantFrom('a', 'b'), effect });
    const toleration: fc.Arbitrary<Toleration> = fc.record(
      {
        key: fc.constantFrom('gpu', 'spot', 'zone'),
        operator: fc.constantFrom<'Equal' | 'Exists'>('Equal', 'Exists'),
        value: fc.constantFrom('a', 'b'),
        effect,
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(
        fc.array(fc.array(taint, { maxLength: 3 }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.array(toleration, { maxLength: 3 }), { minLength: 1, maxLength: 12 }),
        (antTaints, jobTolerations) => {
          const ants: Ant[] = antTaints.map((t, i) => ({ id: `a${i}`, capacity: { cpu: 2 }, taints: t }));
          const pending = jobTolerations.map((tolerations, i) =>
            job(`j${i}`, { submittedAt: i, tasks: [{ id: `j${i}.t`, resources: { cpu: 1 }, tolerations }] }),
          );
          const everything = job('any', {
            submittedAt: -1,
            tasks: [{ id: 'any.t', resources: { cpu: 1 }, tolerations: [{ operator: 'Exists' }] }],
          });
          const { decisions } = schedulePass({ now: 0, pending: [everything, ...pending], running: [], ants }, plugins);
          const byId = new Map([everything, ...pending].map((p) => [p.id, p]));
          for (const d of decisions) {
            if (d.kind !== 'place') continue;
            const ant = ants.find((a) => a.id === d.placement.antId)!;
            expect(untolerated(ant.taints, byId.get(d.jobId)!.tasks[0]!.tolerations, 'NoSchedule')).toBeUndefined();
          }
          expect(decisions.some((d) => d.kind === 'place' && d.jobId === 'any')).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});

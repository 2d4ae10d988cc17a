import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseJobDefinition, toDefinitionDocument } from '../../src/definition/index.js';
import { errorsOf, lines } from './helpers.js';

const full = lines(
  'job_type: render',
  'tenant: acme',
  'queue: batch',
  'deadline: 2h',
  'estimated_runtime: 10m',
  'resources: { cpu: 2, memory: 4096 }',
  'speculative_backup: 1.5',
  'tasks:',
  '  - task_type: frame',
  '    script: [render]',
  '    on_completed: counted',
  '    resources: { cpu: 4, gpu: 1 }',
  '    estimated_runtime: 90s',
  '    speculative_backup: { delay_threshold: 2, resource_threshold: 0.25 }',
  '    affinity:',
  '      required:',
  '        - match_expressions: [{ key: zone, operator: In, values: [eu-west, eu-north] }]',
  '      preferred:',
  '        - weight: 10',
  '          match_expressions: [{ key: ssd, operator: Exists }]',
  '      anti_affinity: [self]',
  '  - task_type: counted',
  '    script: [work]',
  '    resources: { resource_type: License, value: 1 }',
);

describe('scheduling keys in a definition (issue 13)', () => {
  it('reads resources, deadline, estimated_runtime, queue, tenant, affinity and speculative_backup', () => {
    const definition = parseJobDefinition(full);
    expect(definition.scheduling).toEqual({
      resources: { cpu: 2, memory: 4096 },
      estimatedRuntimeMs: 600_000,
      speculativeBackup: { delayThreshold: 1.5 },
      deadline: { afterMs: 7_200_000 },
      queue: 'batch',
      tenant: 'acme',
    });
    expect(definition.resources).toBeUndefined();
    const [frame, counted] = definition.tasks;
    expect(frame!.scheduling).toEqual({
      resources: { cpu: 4, gpu: 1 },
      estimatedRuntimeMs: 90_000,
      speculativeBackup: { delayThreshold: 2, resourceThreshold: 0.25 },
      affinity: {
        required: [[{ key: 'zone', operator: 'In', values: ['eu-west', 'eu-north'] }]],
        preferred: [{ weight: 10, match: [{ key: 'ssd', operator: 'Exists' }] }],
        antiAffinity: ['self'],
      },
    });
    // Formicary's counter form keeps its meaning.
    expect(counted!.resources).toEqual({ resource_type: 'License', value: 1 });
    expect(counted!.scheduling).toBeUndefined();
  });

  it('takes an absolute deadline as an ISO 8601 time', () => {
    const definition = parseJobDefinition(
      lines('job_type: d', 'deadline: 2026-12-24T18:00:00+01:00', 'tasks:', '  - task_type: a', '    script: [a]'),
    );
    expect(definition.scheduling?.deadline).toEqual({ at: Date.UTC(2026, 11, 24, 17) });
  });

  it('writes the keys back so that the document parses to the same definition', () => {
    const definition = parseJobDefinition(full);
    const written = toDefinitionDocument(definition);
    expect(written).toMatchObject({ tenant: 'acme', queue: 'batch', deadline: '2h', resources: { cpu: 2, memory: 4096 } });
    expect(parseJobDefinition(stringify(written))).toEqual(definition);
    const absolute = parseJobDefinition(
      lines('job_type: d', 'deadline: 2026-12-24T18:00:00Z', 'tasks:', '  - task_type: a', '    script: [a]'),
    );
    expect(parseJobDefinition(stringify(toDefinitionDocument(absolute)))).toEqual(absolute);
  });

  it('names the field and line of a bad value', () => {
    const source = lines(
      'job_type: bad',
      'deadline: tomorrow',
      'tenant: "a b"',
      'tasks:',
      '  - task_type: a',
      '    script: [a]',
      '    resources: { cpu: -1 }',
      '    affinity: { required: [{ match_expressions: [{ key: zone, operator: Near }] }] }',
      '    speculative_backup: 0.5',
    );
    const errors = errorsOf(source);
    expect(errors.find((e) => e.includes('deadline'))).toMatch(/^job\.yaml:2:\d+: deadline: expected an ISO 8601 time/);
    expect(errors.find((e) => e.includes('tenant'))).toMatch(/^job\.yaml:3:\d+: tenant: expected a name/);
    expect(errors.find((e) => e.includes('resources'))).toMatch(/^job\.yaml:7:\d+: tasks\[0\]\.resources/);
    expect(errors.find((e) => e.includes('operator'))).toMatch(
      /^job\.yaml:8:\d+: tasks\[0\]\.affinity\.required\[0\]\.match_expressions\[0\]\.operator/,
    );
    expect(errors.find((e) => e.includes('speculative_backup'))).toMatch(/^job\.yaml:9:\d+: tasks\[0\]\.speculative_backup/);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { DEFAULT_PRIORITY, type JobDefinition, parseJobDefinition, toDefinitionDocument } from '../../src/definition/index.js';
import { validDocument } from './arbitraries.js';
import { lines } from './helpers.js';

/** What a task without any of Formicary's container, artifact or control keys normalises to. */
const FORMICARY_TASK_DEFAULTS = {
  beforeScript: [],
  afterScript: [],
  hostNetwork: false,
  privileged: false,
  services: [],
  placement: { nodeSelector: {}, podLabels: {} },
  reportStdout: false,
  awaitForkedTasks: [],
};

describe('parseJobDefinition normalises', () => {
  it('fills every default and converts durations to ms', () => {
    const definition = parseJobDefinition(lines('job_type: defaults', 'tasks:', '  - task_type: a', '    script: [echo a]'));
    expect(definition).toEqual({
      jobType: 'defaults',
      priority: DEFAULT_PRIORITY,
      retry: 0,
      delayBetweenRetriesMs: 0,
      jobVariables: {},
      tags: [],
      triggers: [],
      requiredParams: [],
      tasks: [
        {
          taskType: 'a',
          method: 'SHELL',
          script: ['echo a'],
          environment: {},
          variables: {},
          retry: 0,
          delayBetweenRetriesMs: 0,
          backoff: { strategy: 'fixed', maxDelayMs: 0, jitter: false },
          onExitCode: {},
          needs: [],
          dependencies: [],
          alwaysRun: false,
          allowFailure: false,
          tags: [],
          headers: {},
          query: {},
          ...FORMICARY_TASK_DEFAULTS,
        },
      ],
    });
  });

  it('keeps every key as written, with scalars of environment, headers and query as text', () => {
    const definition = parseJobDefinition(
      lines(
        'job_type: full',
        'description: everything',
        'priority: 90',
        'max_concurrency: 1',
        'timeout: 1h30m',
        'retry: 2',
        'delay_between_retries: 45',
        'job_variables: { Region: eu, Sizes: [1, 2] }',
        'tags: [nightly]',
        'tasks:',
        '  - task_type: fetch',
        '    method: HTTP_POST_JSON',
        '    description: post it',
        '    url: http://127.0.0.1:8080/items',
        '    headers: { X-Retry: 3, Accept: application/json }',
        '    query: { dry: true }',
        '    body: { name: "{{.Region}}", sizes: [1, 2] }',
        '    variables: { Limit: 10 }',
        '    timeout: 250ms',
        '    retry: 5',
        '    delay_between_retries: 2s',
        '    backoff: exponential',
        '    on_exit_code: { 201: store, 409: COMPLETED, 500: EXECUTING }',
        '    on_failed: store',
        '    allow_failure: true',
        '    tags: [net]',
        '  - task_type: store',
        '    environment: { PORT: 8080, DEBUG: false }',
        '    script: [echo store]',
        '    backoff: { strategy: exponential, max_delay: 1m, jitter: false }',
        '    always_run: true',
      ),
    );
    expect(definition).toMatchObject({
      description: 'everything',
      priority: 90,
      maxConcurrency: 1,
      timeoutMs: 5_400_000,
      retry: 2,
      delayBetweenRetriesMs: 45_000,
      jobVariables: { Region: 'eu', Sizes: [1, 2] },
      tags: ['nightly'],
    });
    expect(definition.tasks[0]).toEqual({
      taskType: 'fetch',
      method: 'HTTP_POST_JSON',
      description: 'post it',
      script: [],
      environment: {},
      variables: { Limit: 10 },
      timeoutMs: 250,
      retry: 5,
      delayBetweenRetriesMs: 2000,
      backoff: { strategy: 'exponential', maxDelayMs: 300_000, jitter: true },
      onFailed: 'store',
      onExitCode: { '201': 'store', '409': 'COMPLETED', '500': 'EXECUTING' },
      needs: [],
      dependencies: [],
      alwaysRun: false,
      allowFailure: true,
      tags: ['net'],
      url: 'http://127.0.0.1:8080/items',
      headers: { 'X-Retry': '3', Accept: 'application/json' },
      query: { dry: 'true' },
      body: { name: '{{.Region}}', sizes: [1, 2] },
      ...FORMICARY_TASK_DEFAULTS,
    });
    expect(definition.tasks[1]).toMatchObject({
      environment: { PORT: '8080', DEBUG: 'false' },
      delayBetweenRetriesMs: 1000,
      backoff: { strategy: 'exponential', maxDelayMs: 60_000, jitter: false },
      alwaysRun: true,
    });
  });

  it('expands anchors and merge keys, so tasks can share settings', () => {
    const definition = parseJobDefinition(
      lines(
        'job_type: shared',
        'tasks:',
        '  - &step',
        '    task_type: a',
        '    script: [echo step]',
        '    retry: 2',
        '    timeout: 30s',
        '  - <<: *step',
        '    task_type: b',
        '    needs: [a]',
      ),
    );
    expect(definition.tasks.map((t) => [t.taskType, t.script, t.retry, t.timeoutMs, t.needs])).toEqual([
      ['a', ['echo step'], 2, 30_000, []],
      ['b', ['echo step'], 2, 30_000, ['a']],
    ]);
  });

  it('reports a merge key over a scalar at its position, and takes a quoted one as a plain key', () => {
    const source = (key: string) =>
      lines('job_type: merge', 'tasks:', '  - task_type: a', '    script: [echo]', '    variables:', '      cfg:', `        ${key}: false`);
    expect(() => parseJobDefinition(source('<<'), { fileName: 'm.yaml' })).toThrow(
      expect.objectContaining({
        errors: [expect.objectContaining({ file: 'm.yaml', line: 7, column: 9, message: expect.stringContaining('quote it') })],
      }),
    );
    expect(parseJobDefinition(source('"<<"')).tasks[0]?.variables).toEqual({ cfg: { '<<': false } });
  });

  it('reads JSON the same as the equivalent YAML', () => {
    const yaml = lines('job_type: same', 'tasks:', '  - task_type: a', '    script: [echo a]', '    timeout: 5m');
    const json = JSON.stringify({ job_type: 'same', tasks: [{ task_type: 'a', script: ['echo a'], timeout: '5m' }] });
    expect(parseJobDefinition(json)).toEqual(parseJobDefinition(yaml));
  });
});

/** Drops what YAML and JSON cannot tell apart from absent (-0 becomes 0 in text). */
const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

/** About 10 s each on an idle machine (a YAML parse of a 12-task definition is ~12 ms); a loaded CI machine needs more. */
const PROPERTY_TIMEOUT_MS = 120_000;

describe('round trips', () => {
  it(
    'generated valid definitions parse, and their YAML and JSON forms give the same definition',
    () => {
      fc.assert(
        fc.property(validDocument, (document) => {
          const clean = plain(document);
          const fromYaml = parseJobDefinition(stringify(clean));
          expect(parseJobDefinition(JSON.stringify(clean))).toEqual(fromYaml);
        }),
        { numRuns: 100 },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    'normalise -> document -> parse is the identity, and the document is a fixed point',
    () => {
      fc.assert(
        fc.property(validDocument, (document) => {
          const definition: JobDefinition = parseJobDefinition(JSON.stringify(plain(document)));
          const written = toDefinitionDocument(definition);
          const again = parseJobDefinition(stringify(written));
          expect(again).toEqual(definition);
          expect(toDefinitionDocument(again)).toEqual(written);
        }),
        { numRuns: 100 },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );
});

describe('Formicary forms', () => {
  it('an HTTP task may give its URL as the first script line', () => {
    const definition = parseJobDefinition(
      [
        'job_type: http',
        'tasks:',
        '  - task_type: get',
        '    method: HTTP_GET',
        '    script:',
        '      - https://example.test/todos/1',
      ].join('\n'),
    );
    expect(definition.tasks[0]).toMatchObject({ url: 'https://example.test/todos/1', script: [] });
  });

  it('a task without a method runs on KUBERNETES when it has a container, SHELL otherwise; job tags may be one string', () => {
    const definition = parseJobDefinition(
      [
        'job_type: k',
        'tags: ci, nightly',
        'tasks:',
        '  - task_type: a',
        '    container: { image: alpine }',
        '    script: [ls]',
        '    on_completed: b',
        '  - task_type: b',
        '    script: [ls]',
      ].join('\n'),
    );
    expect(definition.tasks.map((task) => task.method)).toEqual(['KUBERNETES', 'SHELL']);
    expect(definition.tags).toEqual(['ci', 'nightly']);
  });
});

import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  type JobDefinition,
  parseJobDefinition,
  parseSetOutput,
  renderTemplate,
  renderValue,
  routeTargets,
  startTasks,
  type TaskDefinition,
} from '../../src/definition/index.js';

const examplesDir = fileURLToPath(new URL('../../../../examples/orchestrator/', import.meta.url));
const load = (name: string): JobDefinition => parseJobDefinition(readFileSync(`${examplesDir}${name}`, 'utf8'), { fileName: name });
const task = (definition: JobDefinition, type: string): TaskDefinition => definition.tasks.find((t) => t.taskType === type)!;

interface Run {
  readonly exitCode: number | null;
  readonly outputs: Record<string, string>;
  readonly stdout: string;
}

/**
 * Runs one SHELL task as the engine does (templates rendered, every line in one `sh -e`), so the
 * examples are known to work with /bin/sh and not only to validate.
 */
function runShell(
  definition: JobDefinition,
  type: string,
  context: { params?: Record<string, unknown>; outputs?: Record<string, string>; taskRetry?: number } = {},
): Run {
  const shellTask = task(definition, type);
  const scope = {
    params: context.params ?? {},
    taskVariables: shellTask.variables,
    jobVariables: definition.jobVariables,
    outputs: context.outputs ?? {},
    builtIns: { JobID: '42', JobType: definition.jobType, JobRetry: 0, TaskType: type, TaskRetry: context.taskRetry ?? 0 },
  };
  const script = shellTask.script.map((line) => renderTemplate(line, scope)).join('\n');
  const environment = renderValue(shellTask.environment, scope) as Record<string, string>;
  const result = spawnSync('/bin/sh', ['-e', '-c', script], {
    env: { PATH: process.env.PATH, ...environment },
    encoding: 'utf8',
    timeout: 10_000,
  });
  const outputs: Record<string, string> = {};
  for (const line of result.stdout.split('\n')) {
    const output = parseSetOutput(line);
    if (output !== undefined) outputs[output.key] = output.value;
  }
  return { exitCode: result.status, outputs, stdout: result.stdout };
}

describe('examples/orchestrator', () => {
  const files = readdirSync(examplesDir).filter((name) => name.endsWith('.yaml'));

  it('has the documented examples', () => {
    expect(files.sort()).toEqual([
      'approval-gate.yaml',
      'build-and-fork.yaml',
      'container-build.yaml',
      'diamond.yaml',
      'flaky-with-cleanup.yaml',
      'fork-child.yaml',
      'http-poll.yaml',
      'release-chain.yaml',
    ]);
  });

  it.each(files)('%s passes the validator', (name) => {
    expect(() => load(name)).not.toThrow();
  });

  it('diamond: prepare starts, the branches use its output in parallel, the join uses all three', () => {
    const diamond = load('diamond.yaml');
    expect(startTasks(diamond)).toEqual(['prepare']);
    expect(task(diamond, 'join').needs).toEqual(['left', 'right']);
    const outputs: Record<string, string> = {};
    for (const type of ['prepare', 'left', 'right', 'join']) {
      const run = runShell(diamond, type, { outputs });
      expect(run.exitCode, run.stdout).toBe(0);
      Object.assign(outputs, run.outputs);
    }
    expect(outputs).toEqual({ Batch: 'batch-42', LeftCount: '3', RightCount: '4', Total: '7' });
  });

  it('http-poll: 200 routes to report, 404/503 poll, FAILED is fatal, the URL comes from a param with a default', () => {
    const poll = load('http-poll.yaml');
    const wait = task(poll, 'wait-for-status');
    expect(wait.method).toBe('HTTP_GET');
    expect(wait.onExitCode).toEqual({ '200': 'report', '404': 'EXECUTING', '503': 'EXECUTING', FAILED: 'FATAL' });
    expect(wait.url).toBe('{{.StatusUrl}}');
    expect(poll.jobVariables.StatusUrl).toMatch(/^http:\/\/127\.0\.0\.1:/);
    expect(startTasks(poll)).toEqual(['wait-for-status']);
    expect(runShell(poll, 'report', { outputs: { status: '200' } }).exitCode).toBe(0);
    expect(runShell(poll, 'report', { outputs: { status: '503' } }).exitCode).not.toBe(0);
  });

  it('flaky-with-cleanup: fails the first FailAttempts attempts, then succeeds; cleanup is always_run', () => {
    const flaky = load('flaky-with-cleanup.yaml');
    expect(task(flaky, 'flaky')).toMatchObject({ retry: 3, backoff: { strategy: 'exponential', maxDelayMs: 1000, jitter: true } });
    expect(task(flaky, 'cleanup').alwaysRun).toBe(true);
    expect([0, 1, 2].map((taskRetry) => runShell(flaky, 'flaky', { taskRetry }).exitCode)).toEqual([1, 1, 0]);
    expect(runShell(flaky, 'flaky', { taskRetry: 2 }).outputs).toEqual({ Attempts: '3' });
    expect([0, 1, 2, 3].map((taskRetry) => runShell(flaky, 'flaky', { taskRetry, params: { FailAttempts: 5 } }).exitCode)).toEqual([
      1, 1, 1, 1,
    ]);
    expect(runShell(flaky, 'cleanup').exitCode).toBe(0);
  });

  it('release-chain: a chain from checkout, with the failure route taken only when tests fail', () => {
    const chain = load('release-chain.yaml');
    expect(startTasks(chain)).toEqual(['checkout']);
    expect([...routeTargets(chain)].sort()).toEqual(['build', 'notify-failure', 'publish', 'test']);
    const outputs: Record<string, string> = {};
    for (const type of ['checkout', 'build']) Object.assign(outputs, runShell(chain, type, { outputs }).outputs);
    expect(outputs).toEqual({ Revision: 'r42', Artifact: 'app-1.0.0.tar.gz' });
    expect(runShell(chain, 'test', { outputs }).exitCode).toBe(0);
    expect(runShell(chain, 'test', { outputs, params: { TestsPass: false } }).exitCode).toBe(1);
    expect(runShell(chain, 'publish', { outputs }).exitCode).toBe(0);
    expect(runShell(chain, 'notify-failure', { outputs }).exitCode).toBe(0);
  });
});

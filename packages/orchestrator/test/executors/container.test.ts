import Docker from 'dockerode';
import { afterAll, expect, it } from 'vitest';
import { parseJobDefinition } from '../../src/definition/index.js';
import {
  ANT_LABEL,
  type ContainerTaskSpec,
  containerProgram,
  containerSpecOf,
  createContainerExecutor,
  memoryBytes,
  nanoCpus,
  removeLeftovers,
} from '../../src/executors/container.js';
import { LOCAL_IMAGE as IMAGE, podmanGate, PODMAN_SOCKET as SOCKET } from './podman.js';
import { run, spec } from './run.js';

/**
 * Against a real container engine: Podman's Docker-compatible API started by .ci/setup.d/30-podman.sh.
 * Adaptation: no registry is reachable, so every image is the locally built busybox image.
 */
const ANT = `test-ant-${process.pid}`;

const gate = await podmanGate();

const container = (fields: Partial<ContainerTaskSpec> = {}) => ({ image: IMAGE, ...fields });
const docker = new Docker({ socketPath: SOCKET });
const ours = async () => docker.listContainers({ all: true, filters: { label: [`${ANT_LABEL}=${ANT}`] } });

it('converts Kubernetes quantities and builds one program from before_script, script and after_script', () => {
  expect(nanoCpus('500m')).toBe(500_000_000);
  expect(nanoCpus(2)).toBe(2_000_000_000);
  expect(memoryBytes('256Mi')).toBe(256 * 2 ** 20);
  expect(memoryBytes('1G')).toBe(1e9);
  expect(() => memoryBytes('lots')).toThrow(/bad memory quantity/);
  const program = containerProgram(
    spec({ method: 'DOCKER', script: ['make'] }),
    container({ beforeScript: ['cd src'], afterScript: ['rm -rf tmp'] }),
  );
  expect(program).toContain('( set -e\ncd src\nmake\n)');
  expect(program).toContain('exit $status');
  expect(containerProgram(spec({ method: 'DOCKER', script: ['false', 'echo never'] }), container())).toBe('set -e\nfalse\necho never');
});

gate.describe('DOCKER executor on Podman', () => {
  const executor = createContainerExecutor({ socketPath: SOCKET, antId: ANT });
  afterAll(async () => {
    expect(await ours()).toEqual([]);
  });

  it('streams stdout and stderr, keeps the exit code, sets outputs, and removes the container', async () => {
    const result = await run(executor, {
      ...spec({ method: 'DOCKER', script: ['echo hello $WHO', 'echo oops >&2', 'echo "::set-output name=Answer::42"', 'pwd', 'exit 3'] }),
      environment: { WHO: 'podman' },
      container: container({ workingDir: '/tmp' }),
    });
    expect(result.result).toEqual({ exitCode: 3, succeeded: false });
    const lines = result.logs.filter((line) => line.stream !== 'system').map((line) => `${line.stream}:${line.text}`);
    expect(lines).toEqual(expect.arrayContaining(['stdout:hello podman', 'stderr:oops', 'stdout:/tmp']));
    expect(result.outputs).toEqual({ Answer: '42' });
    expect(await ours()).toEqual([]);
  });

  it('runs after_script even when the script fails, and before_script first', async () => {
    const result = await run(executor, {
      ...spec({ method: 'DOCKER', script: ['echo main', 'false', 'echo never'] }),
      container: container({ beforeScript: ['echo before'], afterScript: ['echo after'] }),
    });
    expect(result.result.exitCode).toBe(1);
    expect(result.logs.filter((line) => line.stream === 'stdout').map((line) => line.text)).toEqual(['before', 'main', 'after']);
  });

  it('kills the container on timeout and on cancel, and leaves none behind', async () => {
    const timedOut = await run(executor, { ...spec({ method: 'DOCKER', script: ['sleep 30'], timeoutMs: 500 }), container: container() });
    expect(timedOut.result).toEqual({ succeeded: false, error: 'timed out after 500ms' });
    const controller = new AbortController();
    const cancelled = run(
      executor,
      { ...spec({ method: 'DOCKER', script: ['echo started', 'sleep 30'] }), container: container() },
      controller.signal,
    );
    for (;;) {
      const running = await ours();
      if (running.some((info) => info.State === 'running')) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    controller.abort(new Error('job cancelled'));
    expect((await cancelled).result).toEqual({ succeeded: false, error: 'job cancelled' });
    expect(await ours()).toEqual([]);
  });

  it('starts services as sidecars the task reaches by alias on a shared network', async () => {
    const result = await run(executor, {
      ...spec({ method: 'DOCKER', script: ['for i in $(seq 1 50); do nc -w 1 cache 7000 && exit 0; sleep 0.2; done; exit 9'] }),
      container: container({
        services: [{ name: 'cache', image: IMAGE, command: ['sh', '-c', 'while true; do echo pong | nc -l -p 7000; done'] }],
      }),
    });
    expect(result.result, JSON.stringify(result.logs)).toEqual({ exitCode: 0, succeeded: true });
    expect(result.logs.some((line) => line.text === 'pong')).toBe(true);
    expect(await ours()).toEqual([]);
  });

  it('refuses privileged containers unless the ant allows them, and fails clearly on an image it may not pull', async () => {
    const privileged = await run(executor, { ...spec({ method: 'DOCKER', script: ['true'] }), container: container({ privileged: true }) });
    expect(privileged.result.error).toMatch(/privileged containers are refused/);
    const missing = await run(executor, {
      ...spec({ method: 'DOCKER', script: ['true'] }),
      container: container({ image: 'localhost/myrmex-no-such-image:1', pullPolicy: 'never' }),
    });
    expect(missing.result.error).toBe('image localhost/myrmex-no-such-image:1 is not on this ant and pull policy is never');
  });

  it('removes what a crashed ant left, found by its label', async () => {
    const orphan = await docker.createContainer({ Image: IMAGE, Cmd: ['sleep', '60'], Labels: { [ANT_LABEL]: ANT } });
    await orphan.start();
    expect(await removeLeftovers({ socketPath: SOCKET, antId: ANT })).toBe(1);
    expect(await ours()).toEqual([]);
  });
});

gate.describe('a Formicary container task from its definition', () => {
  it('runs docker_build-style keys (container, working_dir, before/after_script, environment) as written', async () => {
    // Adaptation: the image is the local busybox image instead of a registry image.
    const definition = parseJobDefinition(
      [
        'job_type: container-job',
        'tasks:',
        '- task_type: build',
        '  method: DOCKER',
        '  working_dir: /work',
        '  container:',
        `    image: ${IMAGE}`,
        '    cpu_limit: 500m',
        '    memory_limit: 64Mi',
        '  environment:',
        '    GREETING: hi',
        '  before_script:',
        '    - echo $GREETING > greeting.txt',
        '  script:',
        '    - cat greeting.txt',
        '  after_script:',
        '    - echo cleaned',
      ].join('\n'),
    );
    const task = definition.tasks[0]!;
    const executor = createContainerExecutor({ socketPath: SOCKET, antId: ANT });
    const result = await run(executor, {
      ...spec({ method: task.method, script: task.script, environment: task.environment }),
      container: containerSpecOf(task)!,
    });
    expect(result.result).toEqual({ exitCode: 0, succeeded: true });
    expect(result.logs.filter((line) => line.stream === 'stdout').map((line) => line.text)).toEqual(['hi', 'cleaned']);
  });
});

gate.describe('KUBERNETES tasks on an ant configured to run them on its container engine', () => {
  it("runs the pod's main container and its services, labelled with pod_labels", async () => {
    const executor = createContainerExecutor({ socketPath: SOCKET, antId: ANT, method: 'KUBERNETES' });
    expect(executor.method).toBe('KUBERNETES');
    const result = await run(executor, {
      ...spec({ method: 'KUBERNETES', script: ['echo in a pod'] }),
      container: container({ labels: { app: 'web' } }),
    });
    expect(result.result).toEqual({ exitCode: 0, succeeded: true });
    expect(result.logs.some((line) => line.text === 'in a pod')).toBe(true);
  });
});

import { dirname, join, normalize, posix } from 'node:path';
import { createInterface } from 'node:readline';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import Docker from 'dockerode';
import tar from 'tar-fs';
import { cacheKeyFiles } from '../artifacts/cache.js';
import { parseSetOutput } from '../definition/index.js';
import type { TaskDefinition } from '../definition/model.js';
import type { AttemptResult } from '../domain/types.js';
import { abortGraceMs, abortReason, bounded, type ExecutionContext, type Executor, type TaskSpec } from './executor.js';

/**
 * DOCKER (and, on an ant configured for it, KUBERNETES) tasks in containers, through the Docker
 * Engine API with dockerode, so the same code drives Docker and Podman's compatible service.
 * Every container and network carries the ant's label, so an ant that crashed removes what it left
 * (`removeLeftovers`) and no container outlives its attempt.
 */

/** What a container task needs beyond the shell fields of TaskSpec. */
export interface ContainerTaskSpec {
  readonly image: string;
  readonly workingDir?: string;
  readonly beforeScript?: readonly string[];
  readonly afterScript?: readonly string[];
  readonly hostNetwork?: boolean;
  readonly privileged?: boolean;
  readonly pullPolicy?: string;
  readonly cpuLimit?: string | number;
  readonly memoryLimit?: string | number;
  readonly labels?: Readonly<Record<string, string>>;
  readonly services?: readonly ContainerServiceSpec[];
}

export interface ContainerServiceSpec {
  readonly name: string;
  readonly alias?: string;
  readonly image: string;
  readonly entrypoint?: readonly string[];
  readonly command?: readonly string[];
  readonly environment?: Readonly<Record<string, string | number | boolean>>;
}

export interface ContainerExecutorOptions {
  /** The engine's API socket (Docker's, or `podman system service`'s); default DOCKER_HOST's unix path or /var/run/docker.sock. */
  readonly socketPath?: string;
  /** Labels every container and network; `removeLeftovers` finds them by it. */
  readonly antId: string;
  /** The methods this executor serves: DOCKER, and KUBERNETES when the ant runs pods' containers on its engine. */
  readonly method?: 'DOCKER' | 'KUBERNETES';
  /** Privileged containers are refused unless the ant's operator allows them. */
  readonly allowPrivileged?: boolean;
  readonly killGraceSeconds?: number;
  readonly maxLineBytes?: number;
  /** Images replaced before a task runs (an ant that cannot reach the named registry); `*` matches any image. */
  readonly images?: Readonly<Record<string, string>>;
}

/** How long the attached stream may stay open after the container exited before the attempt stops waiting for it. */
const LOG_DRAIN_GRACE_MS = 10_000;

/** The container part of a task definition, as the executor needs it (undefined for tasks without a container). */
export function containerSpecOf(task: TaskDefinition): ContainerTaskSpec | undefined {
  const container = task.container;
  if (container === undefined) return undefined;
  const optional = Object.entries({
    workingDir: task.workingDir,
    pullPolicy: container.image_pull_policy ?? container.pull_policy,
    cpuLimit: container.cpu_limit,
    memoryLimit: container.memory_limit,
  }).filter(([, value]) => value !== undefined);
  return {
    image: container.image,
    beforeScript: task.beforeScript,
    afterScript: task.afterScript,
    hostNetwork: task.hostNetwork,
    privileged: task.privileged,
    labels: task.placement.podLabels,
    services: task.services.map((service) => ({
      name: service.name,
      image: service.image,
      ...(service.alias === undefined ? {} : { alias: service.alias }),
      ...(service.entrypoint === undefined ? {} : { entrypoint: service.entrypoint }),
      ...(service.command === undefined ? {} : { command: service.command }),
      ...(service.environment === undefined ? {} : { environment: service.environment }),
    })),
    ...Object.fromEntries(optional),
  };
}

export const ANT_LABEL = 'io.myrmex.ant';
const JOB_LABEL = 'io.myrmex.job';
const TASK_LABEL = 'io.myrmex.task';
const ATTEMPT_LABEL = 'io.myrmex.attempt';

export function defaultSocketPath(): string {
  const host = process.env.DOCKER_HOST;
  if (host?.startsWith('unix://')) return host.slice('unix://'.length);
  return '/var/run/docker.sock';
}

/** Kubernetes CPU (`500m`, `2`) as nano-CPUs. */
export function nanoCpus(value: string | number): number {
  const text = String(value);
  const cpus = text.endsWith('m') ? Number(text.slice(0, -1)) / 1000 : Number(text);
  if (!Number.isFinite(cpus) || cpus <= 0) throw new RangeError(`bad cpu quantity '${text}'`);
  return Math.round(cpus * 1e9);
}

const MEMORY_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  // Kubernetes reads `m` as milli (500m = half a byte); definitions that write it mean megabytes, as Docker's `-m 500m` does.
  m: 2 ** 20,
};

/** Kubernetes or Docker memory quantities as bytes. */
export function memoryBytes(value: string | number): number {
  const match = /^(\d+(?:\.\d+)?)([kKMGTm]|Ki|Mi|Gi|Ti)?$/.exec(String(value));
  if (match === null) throw new RangeError(`bad memory quantity '${String(value)}'`);
  return Math.round(Number(match[1]) * MEMORY_UNITS[match[2] ?? '']!);
}

/** The script as one `sh -c` program: before_script and script under `set -e`; after_script always, its failure only logged. */
export function containerProgram(spec: TaskSpec, container: ContainerTaskSpec): string {
  const main = [...(container.beforeScript ?? []), ...spec.script].join('\n');
  const after = container.afterScript ?? [];
  // A failing line ends the script, as on SHELL (`sh -e`) and in Formicary.
  if (after.length === 0) return `set -e\n${main}`;
  return [
    `( set -e\n${main}\n)`,
    'status=$?',
    `( set -e\n${after.join('\n')}\n) || echo "after_script failed with exit code $?" >&2`,
    'exit $status',
  ].join('\n');
}

export function createContainerExecutor(options: ContainerExecutorOptions): Executor {
  const docker = new Docker({ socketPath: options.socketPath ?? defaultSocketPath() });
  const method = options.method ?? 'DOCKER';
  return {
    method,
    execute: async (context) => {
      const container = context.spec.container;
      if (container === undefined) return { succeeded: false, error: `${method} task has no container image` };
      if (container.privileged === true && options.allowPrivileged !== true) {
        return { succeeded: false, error: 'privileged containers are refused: this ant does not allow them (allowPrivileged)' };
      }
      return runContainer(docker, context, substituted(container, options.images, context), options);
    },
  };
}

/** The task's images after the ant's substitutions, each one logged so a reader sees what really ran. */
function substituted(
  container: ContainerTaskSpec,
  images: Readonly<Record<string, string>> | undefined,
  context: ExecutionContext,
): ContainerTaskSpec {
  if (images === undefined) return container;
  const swap = (image: string) => {
    const replacement = images[image] ?? images['*'];
    if (replacement === undefined || replacement === image) return image;
    context.log('system', `image ${image} replaced by ${replacement} (this ant's image map)`, new Date());
    return replacement;
  };
  return {
    ...container,
    image: swap(container.image),
    ...(container.services === undefined ? {} : { services: container.services.map((s) => ({ ...s, image: swap(s.image) })) }),
  };
}

async function ensureImage(docker: Docker, image: string, policy: string, context: ExecutionContext): Promise<string | undefined> {
  const normalized = policy.toLowerCase().replace('ifnotpresent', 'if-not-present');
  const present = await docker
    .getImage(image)
    .inspect()
    .then(() => true)
    .catch(() => false);
  if (normalized === 'never') return present ? undefined : `image ${image} is not on this ant and pull policy is never`;
  if (present && normalized !== 'always') return undefined;
  context.log('system', `pulling ${image}`, new Date());
  try {
    const stream = await docker.pull(image);
    await new Promise<void>((resolve, reject) => docker.modem.followProgress(stream, (error) => (error ? reject(error) : resolve())));
    return undefined;
  } catch (error) {
    return `could not pull ${image}: ${error instanceof Error ? error.message : String(error)}`;
  }
}

async function runContainer(
  docker: Docker,
  context: ExecutionContext,
  container: ContainerTaskSpec,
  options: ContainerExecutorOptions,
): Promise<AttemptResult> {
  const { spec, signal } = context;
  const labels = {
    ...container.labels,
    [ANT_LABEL]: options.antId,
    [JOB_LABEL]: context.jobId,
    [TASK_LABEL]: context.taskType,
    [ATTEMPT_LABEL]: String(context.attempt),
  };
  // The whole job id: UUIDv7 ids share their first 12 characters (a millisecond timestamp) across a burst of jobs.
  const name = `myrmex-${context.jobId}-${context.taskType}-${context.attempt}`.replace(/[^A-Za-z0-9_.-]/g, '-');
  const created: Docker.Container[] = [];
  let network: Docker.Network | undefined;
  const policy = container.pullPolicy ?? 'if-not-present';
  try {
    for (const image of [container.image, ...(container.services ?? []).map((service) => service.image)]) {
      const problem = await ensureImage(docker, image, policy, context);
      if (problem !== undefined) return { succeeded: false, error: problem };
    }
    if (signal.aborted) return { succeeded: false, error: abortReason(signal) };
    const services = container.services ?? [];
    if (services.length > 0 && container.hostNetwork !== true) {
      network = await docker.createNetwork({ Name: `${name}-net`, Labels: labels });
      for (const service of services) {
        const sidecar = await docker.createContainer({
          name: `${name}-${service.name}`,
          Image: service.image,
          Labels: labels,
          ...(service.entrypoint === undefined ? {} : { Entrypoint: [...service.entrypoint] }),
          ...(service.command === undefined ? {} : { Cmd: [...service.command] }),
          Env: Object.entries(service.environment ?? {}).map(([key, value]) => `${key}=${String(value)}`),
          HostConfig: { NetworkMode: `${name}-net` },
          NetworkingConfig: { EndpointsConfig: { [`${name}-net`]: { Aliases: [service.alias ?? service.name] } } },
        });
        created.push(sidecar);
        await sidecar.start();
        context.log('system', `service ${service.name} started (${service.image}) as ${service.alias ?? service.name}`, new Date());
      }
    }
    const main = await docker.createContainer({
      name,
      Image: container.image,
      Labels: labels,
      Cmd: ['sh', '-c', containerProgram(spec, container)],
      Env: Object.entries(spec.environment).map(([key, value]) => `${key}=${value}`),
      ...(container.workingDir === undefined ? {} : { WorkingDir: container.workingDir }),
      HostConfig: {
        NetworkMode: container.hostNetwork === true ? 'host' : network === undefined ? 'bridge' : `${name}-net`,
        Privileged: container.privileged === true,
        ...(container.cpuLimit === undefined ? {} : { NanoCpus: nanoCpus(container.cpuLimit) }),
        ...(container.memoryLimit === undefined ? {} : { Memory: memoryBytes(container.memoryLimit) }),
      },
    });
    created.push(main);
    const workdir = context.workdir === undefined ? undefined : await containerWorkdir(main, container);
    if (workdir !== undefined && ((spec.dependencies ?? []).length > 0 || spec.cache !== undefined)) {
      // The dependencies' files and the cache the ant restored go into the container before it starts.
      await main.putArchive(tar.pack(context.workdir!), { path: workdir });
    }
    // Attached before it starts, as `docker run` does: no line can be written before the stream is
    // open, and the engine is never asked for the logs of a container that may be exiting (Podman's
    // logs endpoint then failed with "read /proc/<pid>/cgroup: no such process", and the attempt lost its output).
    const output = (await main.attach({ stream: true, stdout: true, stderr: true })) as unknown as Readable;
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    docker.modem.demuxStream(output, stdout, stderr);
    output.on('end', () => {
      stdout.end();
      stderr.end();
    });
    const maxLineBytes = options.maxLineBytes ?? 64 * 1024;
    const pumped = Promise.all([pump(stdout, 'stdout', context, maxLineBytes), pump(stderr, 'stderr', context, maxLineBytes)]);
    try {
      await main.start();
    } catch (error) {
      output.destroy();
      stdout.end();
      stderr.end();
      throw error;
    }
    context.log('system', `container ${name} started from ${container.image}`, new Date());

    let stopped: string | undefined;
    const stop = (why: string, graceSeconds = options.killGraceSeconds ?? 2) => {
      if (stopped !== undefined) return;
      stopped = why;
      context.log('system', `stopping container ${name}: ${why}`, new Date());
      main.stop({ t: graceSeconds }).catch(() => undefined);
    };
    const onAbort = () => {
      const grace = abortGraceMs(signal);
      stop(abortReason(signal), grace === undefined ? undefined : Math.ceil(grace / 1000));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    // A cancel that came while the engine was starting the container fired no listener: act on it now.
    if (signal.aborted) onAbort();
    const timer = spec.timeoutMs === undefined ? undefined : setTimeout(() => stop(`timed out after ${spec.timeoutMs}ms`), spec.timeoutMs);
    try {
      const result = (await main.wait()) as { StatusCode: number };
      // The engine ends the attached stream once the container is gone; if it never does, the attempt must not hang on it.
      let grace: NodeJS.Timeout | undefined;
      const drained = await Promise.race([
        pumped.then(() => true),
        new Promise<false>((resolve) => {
          grace = setTimeout(() => resolve(false), LOG_DRAIN_GRACE_MS);
        }),
      ]);
      clearTimeout(grace);
      if (!drained) {
        context.log(
          'system',
          `the engine kept the log stream open ${LOG_DRAIN_GRACE_MS} ms after the container exited; later lines may be missing`,
          new Date(),
        );
        output.destroy();
        stdout.end();
        stderr.end();
        await pumped;
      }
      if (stopped !== undefined) return { succeeded: false, error: stopped };
      if (workdir !== undefined) await copyOut(main, workdir, context);
      return { exitCode: result.StatusCode, succeeded: result.StatusCode === 0 };
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  } catch (error) {
    return { succeeded: false, error: `container engine: ${error instanceof Error ? error.message : String(error)}` };
  } finally {
    for (const item of created.reverse()) await item.remove({ force: true, v: true }).catch(() => undefined);
    await network?.remove().catch(() => undefined);
  }
}

/** Where relative paths point inside the container: working_dir, else the image's WORKDIR, else `/`. */
async function containerWorkdir(main: Docker.Container, container: ContainerTaskSpec): Promise<string> {
  if (container.workingDir !== undefined) return container.workingDir;
  const info = await main.inspect();
  return info.Config.WorkingDir || '/';
}

/**
 * Copies each artifact path, cache path and cache key file out of the stopped container into the
 * attempt's directory on the ant, where they are collected and the cache's key is computed.
 */
async function copyOut(main: Docker.Container, workdir: string, context: ExecutionContext): Promise<void> {
  const { artifacts, cache } = context.spec;
  for (const path of [...(artifacts?.paths ?? []), ...(cache === undefined ? [] : [...cache.paths, ...cacheKeyFiles(cache)])]) {
    const clean = normalize(path);
    // '..' and absolute paths are refused by the collector, which names them; '.' would copy above the directory.
    if (clean.startsWith('..') || clean.startsWith('/') || clean === '.' || clean === './') continue;
    const archive = await main.getArchive({ path: posix.join(workdir, clean) }).catch(() => undefined);
    if (archive === undefined) continue; // not there: the collector reports it missing
    await pipeline(archive, tar.extract(dirname(join(context.workdir!, clean))));
  }
}

function pump(stream: Readable, name: 'stdout' | 'stderr', context: ExecutionContext, maxLineBytes: number): Promise<void> {
  return new Promise((done) => {
    const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
    lines.on('line', (line) => {
      const kept = bounded(line, maxLineBytes);
      context.log(name, kept.truncated ? `${kept.text} [line truncated]` : kept.text, new Date());
      if (name === 'stdout') {
        const output = parseSetOutput(kept.text);
        if (output) context.output(output.key, output.value);
      }
    });
    lines.on('close', done);
  });
}

/** Removes every container and network an ant left behind (a crash, a kill -9): call when the ant starts. */
export async function removeLeftovers(options: { readonly socketPath?: string; readonly antId: string }): Promise<number> {
  const docker = new Docker({ socketPath: options.socketPath ?? defaultSocketPath() });
  const filters = { label: [`${ANT_LABEL}=${options.antId}`] };
  const containers = await docker.listContainers({ all: true, filters });
  for (const info of containers)
    await docker
      .getContainer(info.Id)
      .remove({ force: true, v: true })
      .catch(() => undefined);
  const networks = await docker.listNetworks({ filters });
  for (const info of networks)
    await docker
      .getNetwork(info.Id)
      .remove()
      .catch(() => undefined);
  return containers.length;
}

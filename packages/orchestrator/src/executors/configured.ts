import { createContainerExecutor, removeLeftovers } from './container.js';
import type { Executor } from './executor.js';
import { createMessagingExecutor } from './messaging.js';

/**
 * The executors an ant gets from its operator's configuration, beyond SHELL and HTTP: containers
 * on a Docker-API engine (DOCKER, and KUBERNETES when the ant runs pods' containers there) and
 * MESSAGING over NATS. Kept apart from the queen so a remote ant builds the same set.
 */
export interface ContainerEngineConfig {
  /** The engine's API socket (Docker's, or `podman system service`'s). */
  readonly socketPath?: string;
  /** Also serve KUBERNETES: the pod's main container and its services run on this engine (default true). */
  readonly kubernetes?: boolean;
  /** Privileged containers are refused unless this is set. */
  readonly allowPrivileged?: boolean;
  /**
   * Images replaced before a task runs (`alpine` -> a mirror's copy): for ants that cannot reach
   * the registry a definition names. Keys are image names as written, `*` matches every image.
   */
  readonly images?: Readonly<Record<string, string>>;
}

export interface ExecutorConfig {
  readonly container?: ContainerEngineConfig;
  /** MESSAGING over NATS JetStream. */
  readonly messaging?: { readonly servers: string; readonly defaultTimeoutMs?: number };
}

export interface ConfiguredExecutors {
  readonly executors: readonly Executor[];
  /** Removes containers a previous run of this ant left (a crash); returns how many. */
  sweep(): Promise<number>;
  /** Closes broker connections. */
  close(): Promise<void>;
}

export function configuredExecutors(antId: string, config: ExecutorConfig): ConfiguredExecutors {
  const executors: Executor[] = [];
  const closers: (() => Promise<void>)[] = [];
  const container = config.container;
  if (container !== undefined) {
    const common = {
      antId,
      ...(container.socketPath === undefined ? {} : { socketPath: container.socketPath }),
      ...(container.allowPrivileged === undefined ? {} : { allowPrivileged: container.allowPrivileged }),
      ...(container.images === undefined ? {} : { images: container.images }),
    };
    executors.push(createContainerExecutor({ ...common, method: 'DOCKER' }));
    if (container.kubernetes !== false) executors.push(createContainerExecutor({ ...common, method: 'KUBERNETES' }));
  }
  if (config.messaging !== undefined) {
    const messaging = createMessagingExecutor(config.messaging);
    executors.push(messaging);
    closers.push(() => messaging.close());
  }
  return {
    executors,
    sweep: async () =>
      container === undefined
        ? 0
        : removeLeftovers({ antId, ...(container.socketPath === undefined ? {} : { socketPath: container.socketPath }) }),
    close: async () => {
      await Promise.all(closers.map((close) => close()));
    },
  };
}

/**
 * The configuration from the environment, as `myrmex serve` reads it: MYRMEX_CONTAINER_SOCKET
 * (or DOCKER_HOST=unix://...) enables containers, MYRMEX_CONTAINER_PRIVILEGED=1 allows privileged
 * ones, MYRMEX_CONTAINER_IMAGES maps images (`alpine=localhost/busybox,*=localhost/busybox`),
 * MYRMEX_NATS_URL enables MESSAGING.
 */
export function executorConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ExecutorConfig {
  const socket = env.MYRMEX_CONTAINER_SOCKET ?? (env.DOCKER_HOST?.startsWith('unix://') ? env.DOCKER_HOST.slice(7) : undefined);
  const images = env.MYRMEX_CONTAINER_IMAGES === undefined ? undefined : parseImageMap(env.MYRMEX_CONTAINER_IMAGES);
  return {
    ...(socket === undefined || socket === ''
      ? {}
      : {
          container: {
            socketPath: socket,
            allowPrivileged: env.MYRMEX_CONTAINER_PRIVILEGED === '1' || env.MYRMEX_CONTAINER_PRIVILEGED === 'true',
            ...(images === undefined ? {} : { images }),
          },
        }),
    ...(env.MYRMEX_NATS_URL === undefined || env.MYRMEX_NATS_URL === '' ? {} : { messaging: { servers: env.MYRMEX_NATS_URL } }),
  };
}

/** `from=to,from2=to2` as a map; a pair without `=` is refused naming it. */
export function parseImageMap(text: string): Record<string, string> {
  const map: Record<string, string> = {};
  for (const pair of text.split(',').map((p) => p.trim())) {
    if (pair === '') continue;
    const at = pair.indexOf('=');
    if (at <= 0 || at === pair.length - 1) throw new RangeError(`MYRMEX_CONTAINER_IMAGES: '${pair}' is not image=replacement`);
    map[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return map;
}

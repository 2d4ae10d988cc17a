import type { Executor } from './executor.js';
import { createHttpExecutor, HTTP_METHODS, type HttpMethod } from './http.js';
import { createShellExecutor, type ShellExecutorOptions } from './shell.js';

export {
  type ConfiguredExecutors,
  type ContainerEngineConfig,
  configuredExecutors,
  type ExecutorConfig,
  executorConfigFromEnv,
  parseImageMap,
} from './configured.js';
export {
  ANT_LABEL,
  type ContainerExecutorOptions,
  type ContainerServiceSpec,
  type ContainerTaskSpec,
  containerSpecOf,
  createContainerExecutor,
  removeLeftovers,
} from './container.js';
export * from './executor.js';
export { createHttpExecutor, HTTP_METHODS, type HttpExecutorOptions, type HttpMethod } from './http.js';
export { createMessagingExecutor, type MessagingExecutorOptions, type MessagingReply } from './messaging.js';
export { createShellExecutor, killProcessGroup, type ShellExecutorOptions } from './shell.js';

/** SHELL and the four HTTP methods. */
export function builtInExecutors(options: { readonly shell?: ShellExecutorOptions } = {}): Executor[] {
  return [createShellExecutor(options.shell), ...(Object.keys(HTTP_METHODS) as HttpMethod[]).map((method) => createHttpExecutor(method))];
}

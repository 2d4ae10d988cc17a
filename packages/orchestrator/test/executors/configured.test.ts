import { expect, it } from 'vitest';
import { configuredExecutors, executorConfigFromEnv, parseImageMap } from '../../src/executors/configured.js';

it('reads the ant configuration from the environment, naming a bad image pair', () => {
  expect(executorConfigFromEnv({})).toEqual({});
  expect(
    executorConfigFromEnv({
      MYRMEX_CONTAINER_SOCKET: '/run/podman.sock',
      MYRMEX_CONTAINER_IMAGES: 'alpine=localhost/busybox, *=localhost/other',
      MYRMEX_NATS_URL: '127.0.0.1:4222',
    }),
  ).toEqual({
    container: {
      socketPath: '/run/podman.sock',
      allowPrivileged: false,
      images: { alpine: 'localhost/busybox', '*': 'localhost/other' },
    },
    messaging: { servers: '127.0.0.1:4222' },
  });
  expect(executorConfigFromEnv({ DOCKER_HOST: 'unix:///var/run/docker.sock', MYRMEX_CONTAINER_PRIVILEGED: '1' }).container).toEqual({
    socketPath: '/var/run/docker.sock',
    allowPrivileged: true,
  });
  expect(() => parseImageMap('alpine')).toThrow("MYRMEX_CONTAINER_IMAGES: 'alpine' is not image=replacement");
});

it('serves DOCKER and KUBERNETES on one engine, and MESSAGING when a broker is configured', async () => {
  const methods = (config: Parameters<typeof configuredExecutors>[1]) =>
    configuredExecutors('ant', config).executors.map((executor) => executor.method);
  expect(methods({})).toEqual([]);
  expect(methods({ container: { socketPath: '/nowhere.sock' } })).toEqual(['DOCKER', 'KUBERNETES']);
  expect(methods({ container: { kubernetes: false }, messaging: { servers: '127.0.0.1:4222' } })).toEqual(['DOCKER', 'MESSAGING']);
  // Closing before any task ran opens no connection.
  await configuredExecutors('ant', { messaging: { servers: '127.0.0.1:1' } }).close();
});

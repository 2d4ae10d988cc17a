import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { isCi, openGate } from '@myrmex/test-utils';

/**
 * Podman's Docker-compatible API, started by .ci/setup.d/30-podman.sh. No registry is reachable
 * here, so tests run the locally built busybox image in place of whatever a definition names.
 */
export const PODMAN_SOCKET = process.env.MYRMEX_PODMAN_SOCKET ?? '/run/myrmex-podman/podman.sock';
export const LOCAL_IMAGE = 'localhost/myrmex-busybox:latest';

export const podmanGate = () =>
  openGate({
    service: 'Podman (Docker API)',
    url: `unix://${PODMAN_SOCKET}`,
    ci: isCi(),
    probe: () =>
      new Promise<void>((resolve, reject) => {
        if (!existsSync(PODMAN_SOCKET)) {
          reject(new Error(`no socket at ${PODMAN_SOCKET} (run .ci/setup.d/30-podman.sh)`));
          return;
        }
        const probe = request({ socketPath: PODMAN_SOCKET, path: '/_ping' }, (response) => {
          response.resume();
          if (response.statusCode === 200) resolve();
          else reject(new Error(`_ping answered ${response.statusCode}`));
        });
        probe.on('error', reject);
        probe.end();
      }),
  });

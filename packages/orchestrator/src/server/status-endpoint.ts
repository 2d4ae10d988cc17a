import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StatusEndpoint {
  /** Base URL; each path under it is an independent status. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * A loopback stand-in for an external system that takes a while: each path answers 503 for its first
 * `readyAfter` polls, then 200 with a JSON body. The demo's HTTP polling job polls it.
 */
export async function startStatusEndpoint(readyAfter = 3): Promise<StatusEndpoint> {
  const polls = new Map<string, number>();
  const server = createServer((request, response) => {
    const path = request.url ?? '/';
    const count = (polls.get(path) ?? 0) + 1;
    polls.set(path, count);
    const ready = count > readyAfter;
    response.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ ready, polls: count }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

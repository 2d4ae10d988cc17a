import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Queen } from '@myrmex/orchestrator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/index.js';
import { capture } from './support/capture.js';
import { ended, servedQueen } from './support/served-queen.js';

/** `myrmex circuit-breakers` and `myrmex consumables` in-process against a real queen, its API and a failing HTTP server on loopback. */
describe('myrmex circuit-breakers and consumables', () => {
  const served = servedQueen('myrmex-cli-guards-');
  let queen: Queen;
  let target: Server;
  let url: string;
  let host: string;

  beforeAll(async () => {
    target = createServer((_request, response) => response.writeHead(503).end('down'));
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    host = `127.0.0.1:${(target.address() as AddressInfo).port}`;
    ({ queen, url } = served.current);
  });

  afterAll(async () => {
    await new Promise((resolve) => target.close(resolve));
  });

  it('lists the breaker a failing host opened', async () => {
    const empty = capture();
    expect(await main(['circuit-breakers', '--server', url], empty.io)).toBe(0);
    expect(empty.out.join('\n')).toBe('no HTTP target host has failed yet');
    await queen.applyDefinition(
      JSON.stringify({
        job_type: 'ping',
        tasks: [{ task_type: 'call', method: 'HTTP_GET', url: `http://${host}/`, circuit_breaker: { failures: 1, open_for: '1h' } }],
      }),
    );
    const { id } = await queen.submit({ jobType: 'ping' });
    await ended(queen, id);
    const listed = capture();
    expect(await main(['circuit-breakers', '--server', url], listed.io)).toBe(0);
    expect(listed.out.join('\n')).toMatch(new RegExp(`^${host} {2}OPEN {2}1 failure in a row {2}open since \\S+ {2}last: HTTP 503$`));
  });

  it('declares a pool and lists it', async () => {
    const declared = capture();
    expect(await main(['consumables', 'License', '2', '--server', url], declared.io)).toBe(0);
    expect(declared.out.join('\n')).toBe('License  0/2 in use');
    const bad = capture();
    expect(await main(['consumables', 'License', 'two', '--server', url], bad.io)).not.toBe(0);
    expect(bad.err.join('\n')).toContain('give its capacity as a whole number');
    const json = capture();
    expect(await main(['consumables', '--server', url, '--json'], json.io)).toBe(0);
    expect(JSON.parse(json.out.join(''))).toEqual([{ name: 'License', capacity: 2, in_use: 0, holders: [] }]);
  });
});

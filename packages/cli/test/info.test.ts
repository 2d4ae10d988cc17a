import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { main } from '../src/index.js';
import { capture } from './support/capture.js';

describe('myrmex info', () => {
  it('lists every package with its status as JSON', async () => {
    const { io, out } = capture();
    expect(await main(['info', '--json'], io)).toBe(0);
    const table = JSON.parse(out.join('')) as { name: string; status: string }[];
    expect(table.map((p) => p.name)).toEqual([
      '@myrmex/orchestrator',
      '@myrmex/idempotency',
      '@myrmex/tx',
      '@myrmex/byzantine',
      '@myrmex/facets',
      '@myrmex/aom',
      '@myrmex/postmortem',
      '@myrmex/cli',
    ]);
    expect(table.find((p) => p.name === '@myrmex/cli')?.status).toBe('working');
  });

  it('exits 2 with a message on an unknown command', async () => {
    const { io, err } = capture();
    expect(await main(['no-such-command'], io)).toBe(2);
    expect(err.join('')).toMatch(/unknown command 'no-such-command'/);
  });

  it('runs as the installed binary', async () => {
    const bin = fileURLToPath(new URL('../bin/myrmex.js', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [bin, 'info']);
    expect(stdout).toMatch(/^package\s+status\s+purpose/);
    expect(stdout).toContain('@myrmex/orchestrator');
  });
});

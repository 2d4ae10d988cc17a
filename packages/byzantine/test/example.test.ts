import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('examples/byzantine/paper.ts', () => {
  it('runs as a real process and reproduces the paper', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--conditions=source', 'examples/byzantine/paper.ts'],
      { cwd: root },
    );
    expect(stdout).toContain('loyal 1:ATTACK 2:ATTACK; 9 messages; IC1 holds, IC2 holds');
    expect(stdout).toContain('loyal 1:RETREAT; 4 messages; IC1 holds, IC2 BROKEN');
    expect(stdout).toContain('loyal 1:ATTACK; 4 messages, 1 forged discarded; IC1 holds, IC2 holds');
    expect(stdout).toMatch(/OM\(1\), 2000 generals, fast engine: 3,996,001 messages in [\d.]+ ms, IC1 true, IC2 true/);
    expect(stdout).toMatch(/OM\(1\), 2000 generals, actors engine: 3,996,001 messages in [\d.]+ ms, IC1 true, IC2 true/);
  });
});

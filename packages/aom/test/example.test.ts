import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));

describe('examples/aom/fleet.ts', () => {
  it('runs to the end in a child process on SQLite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aom-example-'));
    const file = join(dir, 'fleet.db');
    const run = promisify(execFile)(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', 'examples/aom/fleet.ts', '--store', 'sqlite', '--file', file],
      {
        cwd: root,
        timeout: 60_000,
      },
    );
    const { stdout } = await run.finally(() => rmSync(dir, { recursive: true, force: true }));
    expect(stdout).toContain(`data kept in ${file}`);
    expect(stdout).toContain('refused, every issue at once:');
    expect(stdout).toContain('* [rule:electric_fuel] Car: an electric car runs on electricity');
    expect(stdout).toContain('discounted by a strategy bound by name: 21600');
    expect(stdout).toMatch(/auditor reads the VIN: 1HGCM82633A004352/);
    expect(stdout).toContain("brand: 'Bee Works'");
    expect(stdout).toContain('eagerly migrated: 1 entities');
  });
});

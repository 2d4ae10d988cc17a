import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('examples/facets/account.ts', () => {
  it('runs as a real process: the teller is refused and audited, the manager withdraws despite a failing notifier', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--conditions=source', 'examples/facets/account.ts'],
      {
        cwd: root,
      },
    );
    expect(stdout).toContain("tom (teller) refused: permission 'account:withdraw' denied (roles: teller)");
    expect(stdout).toContain('audit #1 permission.denied {"permission":"account:withdraw","roles":["teller"]}');
    expect(stdout).toContain('mia (manager) withdrew 30: balance 70');
    expect(stdout).toContain('notify: {"account":"acc-mia","amount":30,"balance":70}');
    expect(stdout).toContain('audit #2 notification.failed {"topic":"account.withdrawn","error":"SMS gateway down"}');
  });
});

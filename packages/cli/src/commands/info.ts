import { createRequire } from 'node:module';
import type { RegisterCommands } from '../context.js';

const PACKAGES = ['orchestrator', 'idempotency', 'tx', 'byzantine', 'facets', 'aom', 'postmortem', 'cli'] as const;

export interface PackageInfo {
  readonly name: string;
  readonly description: string;
  readonly status: string;
}

/** Reads each package's own manifest, so the table never drifts from what is installed. */
export function packageTable(): PackageInfo[] {
  const require = createRequire(import.meta.url);
  return PACKAGES.map((short) => {
    const name = `@myrmex/${short}`;
    try {
      const manifest = require(`${name}/package.json`) as { description?: string; myrmex?: { status?: string } };
      return { name, description: manifest.description ?? '', status: manifest.myrmex?.status ?? 'planned' };
    } catch {
      return { name, description: '(not installed)', status: 'absent' };
    }
  });
}

export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export const registerInfo: RegisterCommands = (program, { io }) => {
  program
    .command('info')
    .description('list the Myrmex packages and their status')
    .option('--json', 'print machine-readable JSON')
    .action((options: { json?: boolean }) => {
      const table = packageTable();
      if (options.json) {
        io.out(JSON.stringify(table));
        return;
      }
      io.out(formatTable([['package', 'status', 'purpose'], ...table.map((p) => [p.name, p.status, p.description])]));
    });
};

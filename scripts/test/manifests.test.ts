import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/** What every published package promises its installers, read from the real manifests. */
const repo = fileURLToPath(new URL('../..', import.meta.url));
const packages = readdirSync(join(repo, 'packages'))
  .filter((name) => existsSync(join(repo, 'packages', name, 'package.json')))
  .map((name) => ({ name, manifest: JSON.parse(readFileSync(join(repo, 'packages', name, 'package.json'), 'utf8')) }));

describe('package manifests', () => {
  it('every package has top-level main and types equal to its "." export (for node10 resolution)', () => {
    for (const { name, manifest } of packages) {
      const root = manifest.exports?.['.'];
      expect({ name, main: manifest.main, types: manifest.types }).toEqual({ name, main: root.default, types: root.types });
    }
  });

  it('one peer dependency range per driver across packages', () => {
    const ranges = new Map<string, Map<string, string[]>>();
    for (const { name, manifest } of packages) {
      for (const [driver, range] of Object.entries((manifest.peerDependencies ?? {}) as Record<string, string>)) {
        const byRange = ranges.get(driver) ?? new Map<string, string[]>();
        byRange.set(range, [...(byRange.get(range) ?? []), name]);
        ranges.set(driver, byRange);
      }
    }
    const split = [...ranges]
      .filter(([, byRange]) => byRange.size > 1)
      .map(([driver, byRange]) => `${driver}: ${JSON.stringify([...byRange])}`);
    expect(split).toEqual([]);
  });

  it('a consumer compiled with moduleResolution node10 finds every package and its types', async () => {
    const missing = packages.filter(({ name, manifest }) => !existsSync(join(repo, 'packages', name, manifest.types)));
    if (missing.length > 0)
      throw new Error(`build first (npm run build): no ${missing.map((p) => `packages/${p.name}/${p.manifest.types}`).join(', ')}`);
    const dir = mkdtempSync(join(tmpdir(), 'node10-consumer-'));
    try {
      symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'), 'dir');
      const lines = packages
        .filter(({ manifest }) => manifest.name !== '@myrmex/cli')
        .map(
          ({ manifest }, index) =>
            `import * as p${index} from '${manifest.name}';\nexport const k${index}: string[] = Object.keys(p${index});`,
        );
      writeFileSync(
        join(dir, 'consumer.ts'),
        `${lines.join('\n')}\nimport { MemoryStore } from '@myrmex/idempotency';\nimport { Facets } from '@myrmex/facets';\nexport const store: MemoryStore = new MemoryStore();\nexport const faceted = Facets.of({});\n`,
      );
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            module: 'commonjs',
            moduleResolution: 'node10',
            target: 'es2022',
            strict: true,
            noEmit: true,
            skipLibCheck: true,
            types: ['node'],
          },
          files: ['consumer.ts'],
        }),
      );
      const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
      const result = await promisify(execFile)(process.execPath, [tsc, '-p', dir]).then(
        () => ({ code: 0, out: '' }),
        (error: { code: number; stdout: string }) => ({ code: error.code, out: error.stdout }),
      );
      expect(result).toEqual({ code: 0, out: '' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

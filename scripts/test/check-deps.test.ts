import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error the checker is a plain .mjs script without declarations
import { checkDependencies } from '../check-deps.mjs';

const script = fileURLToPath(new URL('../check-deps.mjs', import.meta.url));
let root: string;

function write(path: string, text: string) {
  const full = join(root, path);
  mkdirSync(dirname(full), { recursive: true });
  writeFileSync(full, text);
}

function manifest(name: string, dependencies: Record<string, string> = {}) {
  return JSON.stringify({
    name: `@myrmex/${name}`,
    exports: { '.': './dist/index.js', './fastify': './dist/fastify/index.js' },
    dependencies,
  });
}

function tree() {
  root = mkdtempSync(join(tmpdir(), 'check-deps-'));
  for (const name of ['orchestrator', 'idempotency', 'facets', 'aom', 'cli']) write(`packages/${name}/package.json`, manifest(name));
  write(
    'packages/orchestrator/src/index.ts',
    "import { x } from '@myrmex/idempotency';\nimport { y } from '@myrmex/idempotency/fastify';\n",
  );
  write('packages/aom/src/index.ts', "import { Facets } from '@myrmex/facets';\n");
  write('packages/aom/test/a.test.ts', "import { postgres } from '@myrmex/test-utils';\n");
}

afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('check-deps', () => {
  it('accepts imports that follow the dependency direction', () => {
    tree();
    expect(checkDependencies(root)).toEqual([]);
  });

  it('rejects a relative import into another package src/, naming file, line and column', () => {
    tree();
    write('packages/orchestrator/src/bad.ts', "// why\nimport { claim } from '../../idempotency/src/engine.js';\n");
    expect(checkDependencies(root)).toEqual([
      expect.objectContaining({
        file: 'packages/orchestrator/src/bad.ts',
        line: 2,
        message: expect.stringContaining('reaches outside @myrmex/orchestrator'),
      }),
    ]);
  });

  it('lets tests and benchmarks import their own package by its published name, but not src/', () => {
    tree();
    write('packages/idempotency/test/api.test.ts', "import { x } from '@myrmex/idempotency/fastify';\n");
    write('packages/idempotency/bench/run.ts', "import { x } from '@myrmex/idempotency';\n");
    expect(checkDependencies(root)).toEqual([]);
    write('packages/idempotency/src/self.ts', "import { x } from '@myrmex/idempotency';\n");
    write('packages/idempotency/test/deep.test.ts', "import { x } from '@myrmex/idempotency/missing';\n");
    expect(checkDependencies(root).map((v: { message: string }) => v.message)).toEqual([
      expect.stringContaining('imports itself by name in src/'),
      expect.stringContaining("'@myrmex/idempotency/missing' is not a published entry point"),
    ]);
  });

  it('rejects a deep import past the exports map', () => {
    tree();
    write('packages/orchestrator/src/bad.ts', "import { claim } from '@myrmex/idempotency/src/engine.js';\n");
    expect(checkDependencies(root)[0]?.message).toMatch(/not a published entry point of @myrmex\/idempotency/);
  });

  it('rejects an upward import and a cycle', () => {
    tree();
    write('packages/idempotency/src/bad.ts', "export { run } from '@myrmex/orchestrator';\n");
    write('packages/facets/src/bad.ts', "const aom = await import('@myrmex/aom');\n");
    const messages = checkDependencies(root).map((v: { message: string }) => v.message);
    expect(messages).toEqual([
      expect.stringContaining('@myrmex/facets may not depend on @myrmex/aom'),
      expect.stringContaining('@myrmex/idempotency may not depend on @myrmex/orchestrator'),
    ]);
  });

  it('rejects a manifest dependency against the direction and test-utils in src/', () => {
    tree();
    write('packages/facets/package.json', manifest('facets', { '@myrmex/aom': '*' }));
    write('packages/aom/src/helpers.ts', "import { redis } from '@myrmex/test-utils';\n");
    const messages = checkDependencies(root).map((v: { message: string }) => v.message);
    expect(messages).toContain('dependencies names @myrmex/aom, which @myrmex/facets may not depend on');
    expect(messages).toContainEqual(expect.stringContaining('for tests and benchmarks only'));
  });

  it('keeps the layers inside the orchestrator: a lower folder may not import a higher one', () => {
    tree();
    write('packages/orchestrator/src/store/store.ts', "import type { Plan } from '../engine/plan.js';\n");
    write('packages/orchestrator/src/engine/plan.ts', "import type { JobRow } from '../store/store.js';\n");
    write('packages/orchestrator/src/domain/types.ts', "import type { Queen } from '../queen/queen.js';\n");
    const messages = checkDependencies(root).map((v: { message: string }) => v.message);
    expect(messages).toEqual([
      expect.stringContaining('src/domain/ may not import src/queen/'),
      expect.stringContaining('src/store/ may not import src/engine/'),
    ]);
  });

  it('fails the lint step (exit 1) on a deliberate cross-package import into src/', async () => {
    tree();
    write('packages/cli/src/bad.ts', "import { parse } from '../../orchestrator/src/parse.js';\n");
    const run = promisify(execFile)(process.execPath, [script, '--root', root]);
    await expect(run).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('packages/cli/src/bad.ts:1:') });
  });
});

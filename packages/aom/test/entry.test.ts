import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * Imports `specifier` in a fresh Node process whose module resolution refuses `pg` and
 * `better-sqlite3`, so any import of a driver on the way fails the import.
 */
async function importWithoutDrivers(specifier: string): Promise<{ code: number; out: string }> {
  const hooks = `export async function resolve(specifier, context, next) {
    if (specifier === 'pg' || specifier === 'better-sqlite3') throw new Error('loaded the driver ' + specifier);
    return next(specifier, context);
  }`;
  const script = `import { register } from 'node:module';
    register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hooks)}));
    const module = await import(${JSON.stringify(specifier)});
    console.log(Object.keys(module).sort().join(','));`;
  return promisify(execFile)(process.execPath, ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: root,
  }).then(
    ({ stdout }) => ({ code: 0, out: stdout }),
    (error: { code: number; stderr: string }) => ({ code: error.code, out: error.stderr }),
  );
}

describe('entry points', { timeout: 120_000 }, () => {
  it('importing @myrmex/aom loads neither better-sqlite3 nor pg (checked in a child process)', async () => {
    const result = await importWithoutDrivers('@myrmex/aom');
    expect(result.code).toBe(0);
    expect(result.out).toContain('MemoryAomStore');
    expect(result.out).not.toContain('SqliteAomStore');
  });

  it('the stores are subpath exports, and each loads its own driver (the check above can fail)', async () => {
    const sqlite = await importWithoutDrivers('@myrmex/aom/sqlite');
    expect(sqlite.code).not.toBe(0);
    expect(sqlite.out).toContain('loaded the driver better-sqlite3');
    const postgres = await importWithoutDrivers('@myrmex/aom/postgres');
    expect(postgres.out).toContain('loaded the driver pg');
  });
});

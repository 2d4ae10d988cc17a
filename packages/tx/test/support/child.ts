import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll } from 'vitest';

/**
 * A test's child-process script, bundled once into plain JavaScript (drivers left external,
 * resolved from the repo's node_modules): each run then costs a bare Node start instead of a
 * TypeScript loader's. Returns the bundle's path, valid inside the suite's tests.
 */
export function bundledChild(source: URL): string {
  const name = fileURLToPath(source).split('/').pop()!.replace(/\.ts$/, '');
  const bundle = fileURLToPath(new URL(`../../../../node_modules/.cache/myrmex-tx/${name}-${process.pid}.mjs`, import.meta.url));
  beforeAll(async () => {
    await build({
      entryPoints: [fileURLToPath(source)],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      outfile: bundle,
      logLevel: 'error',
    });
  });
  afterAll(() => rmSync(bundle, { force: true }));
  return bundle;
}

/** Runs `script args...`; resolves when it dies by SIGKILL (kill -9), rejects with its output otherwise. */
export function runUntilKilled(script: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
    };
    proc.stdout.on('data', collect);
    proc.stderr.on('data', collect);
    proc.on('error', reject);
    proc.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve();
      else reject(new Error(`${script} ${args.join(' ')} exited with ${code} instead of being killed: ${output}`));
    });
  });
}

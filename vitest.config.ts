import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

// Tests import sibling packages through their "source" export condition, so they run against
// src/ without a build and a stale dist/ can never hide a change. Vitest hands these conditions to
// Node too, and 'module' is a bundler-only convention Node never applies: with it, Node would
// require() packages' browser-style ESM builds (@opentelemetry/api's, with extensionless imports).
const conditions = ['source', ...defaultServerConditions.filter((condition) => condition !== 'module')];

const packageProjects = readdirSync('packages')
  .filter((name) => existsSync(join('packages', name, 'test')))
  .map((name) => ({
    extends: true as const,
    test: { name, root: join('packages', name), include: ['test/**/*.test.ts'] },
  }));

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['source'] } },
  test: {
    // CI is a 2-core machine that may be loaded: property tests and child processes get room; a hang still fails.
    testTimeout: 90_000,
    // Suites that predate authentication (issue 17) talk to open queens; security suites turn it on explicitly.
    env: { MYRMEX_AUTH: process.env.MYRMEX_AUTH ?? 'off' },
    hookTimeout: 60_000,
    projects: [
      ...packageProjects,
      { extends: true, test: { name: 'repo', include: ['scripts/test/**/*.test.ts', 'test-utils/test/**/*.test.ts'] } },
    ],
  },
});

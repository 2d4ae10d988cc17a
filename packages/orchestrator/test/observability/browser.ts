import { constants } from 'node:fs';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dashboardBuilt } from '@myrmex/dashboard';
import { isCi, openGate } from '@myrmex/test-utils';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';

export const CHROMIUM = process.env.MYRMEX_CHROMIUM ?? '/usr/bin/chromium';

/** Debian's Chromium and a built dashboard; absent, the suite skips loudly (fails under CI=true). */
export const browserGate = await openGate({
  service: 'Chromium and the built dashboard',
  url: CHROMIUM,
  ci: isCi(),
  probe: async () => {
    await access(CHROMIUM, constants.X_OK);
    if (!dashboardBuilt()) throw new Error('packages/dashboard/dist is missing: run npm run build -w packages/dashboard');
  },
});

/** A headless Chromium on a fresh profile, closed (and its profile deleted) by `close`. */
export async function launch(viewport = { width: 1280, height: 860 }): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = await mkdtemp(join(tmpdir(), 'myrmex-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** One browser for the suite that calls this: launched before its first test, closed after its last. */
export function suiteBrowser(): { newPage(): Promise<Page> } {
  let browser: Awaited<ReturnType<typeof launch>> | undefined;
  beforeAll(async () => {
    browser = await launch();
  });
  afterAll(async () => browser?.close());
  return {
    newPage: async () => {
      if (browser === undefined) throw new Error('the suite browser is not launched: call newPage inside a test');
      return browser.context.newPage();
    },
  };
}

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createLogger, type RunningServer, serve } from '../../src/index.js';
import { browserGate, launch } from './browser.js';
import { apply, submit, waitForEnd } from './helpers.js';

const PIPELINE = `job_type: pipeline
tasks:
  - task_type: build
    script: ["echo built", "echo ::set-output name=Artifact::app.tar"]
    on_completed: check
  - task_type: check
    script: [echo checked]
`;
const BROKEN = `job_type: broken
tasks:
  - task_type: fail
    script: [echo about to fail, exit 3]
`;

interface ThemeGlobals {
  document: { documentElement: { dataset: { theme?: string } } };
}

/** One line per violation and node, so a failure says what to fix where. */
const describeViolations = (violations: Awaited<ReturnType<AxeBuilder['analyze']>>['violations']) =>
  violations.flatMap((v) => v.nodes.map((node) => `${v.id} (${v.impact}): ${node.target.join(' ')} — ${node.failureSummary ?? v.help}`));

/**
 * axe-core's WCAG 2.1 A and AA rules (contrast included) over every page of the dashboard, in the light
 * and the dark theme, with real jobs on the pages: zero violations.
 */
browserGate.describe('the dashboard passes an axe-core audit in light and dark mode', () => {
  // axe walks every element of four or five pages a test: measured 31-49 s a test at a load average of 23 on 2 cores, 65-72 s at 35.
  vi.setConfig({ testTimeout: 180_000 });
  let browser: Awaited<ReturnType<typeof launch>>;
  let server: RunningServer;
  let dir: string;
  let ok: { id: string };
  let failed: { id: string };
  // One queen with a completed and a failed job serves both themes' audits.
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'myrmex-a11y-'));
    server = await serve({
      port: 0,
      handleSignals: false,
      dbPath: join(dir, 'queen.db'),
      logger: createLogger({ format: 'json', write: () => {} }),
    });
    browser = await launch();
    await apply(server.url, PIPELINE);
    await apply(server.url, PIPELINE.replace('echo checked', 'echo checked again'));
    await apply(server.url, BROKEN);
    ok = await submit(server.url, 'pipeline');
    failed = await submit(server.url, 'broken');
    expect(await waitForEnd(server.url, ok.id)).toBe('COMPLETED');
    expect(await waitForEnd(server.url, failed.id)).toBe('FAILED');
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function audit(page: Page, what: string): Promise<string[]> {
    const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
    return describeViolations(result.violations).map((line) => `${what}: ${line}`);
  }

  /** A page in `scheme`, and `visit`, which opens a hash route, waits for `ready` and audits it. */
  async function themed(scheme: 'light' | 'dark') {
    const page = await browser.context.newPage();
    await page.emulateMedia({ colorScheme: scheme });
    const found: string[] = [];
    const visit = async (hash: string, ready: (p: Page) => Promise<unknown>) => {
      await page.goto(`${server.url}/${hash}`);
      await ready(page);
      expect(await page.evaluate(() => (globalThis as unknown as ThemeGlobals).document.documentElement.dataset.theme)).toBe(scheme);
      found.push(...(await audit(page, hash || '#/')));
    };
    return { page, found, visit };
  }

  // Two tests a theme, so each stays well inside the budget on a loaded machine.
  for (const scheme of ['light', 'dark'] as const) {
    it(`has no violations on the job pages in ${scheme} mode`, async () => {
      const { page, found, visit } = await themed(scheme);
      await visit('', (p) => p.locator(`tr[data-job-id="${failed.id}"] .badge`, { hasText: 'FAILED' }).waitFor());
      await visit(`#/jobs/${ok.id}`, async (p) => {
        await p.locator('.react-flow__node').first().waitFor();
        await p.locator('.log-box', { hasText: 'built' }).waitFor();
      });
      await visit(`#/jobs/${failed.id}`, (p) => p.locator('.log-box', { hasText: 'about to fail' }).waitFor());
      await visit(`#/jobs/${failed.id}/postmortem`, (p) => p.getByRole('heading', { name: /post-mortem/i }).waitFor());
      await page.close();
      expect(found).toEqual([]);
    });

    it(`has no violations on the definition, ant and queue pages in ${scheme} mode`, async () => {
      const { page, found, visit } = await themed(scheme);
      await visit('#/definitions', (p) => p.getByRole('heading', { name: 'Definitions' }).waitFor());
      await visit('#/definitions/pipeline', (p) => p.locator('.hljs').first().waitFor());
      // The editor with validation errors under their lines, and the diff between two versions.
      await page.getByLabel('YAML').fill('job_type: broken\ntasks:\n  - task_type: a\n    scriptt: [true] # typo\n');
      await page.getByRole('button', { name: 'Validate and apply' }).click();
      await page.locator('.line.has-error .inline-error').first().waitFor();
      found.push(...(await audit(page, 'definition editor with errors')));
      await page.getByLabel('Compare with').selectOption('1');
      await page.locator('.diff .added').first().waitFor();
      found.push(...(await audit(page, 'definition diff')));
      await visit('#/ants', (p) => p.getByText('Running 0 of 4').waitFor());
      await visit('#/queue', (p) => p.locator('.chart canvas').first().waitFor());
      await page.close();
      expect(found).toEqual([]);
    });
  }
});

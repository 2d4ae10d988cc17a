import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it, vi } from 'vitest';
import { browserGate, suiteBrowser } from '../observability/browser.js';
import { apply, servers, submit, waitForEnd } from '../observability/helpers.js';
import { req } from './harness.js';

browserGate.describe('quotas in the dashboard', () => {
  const start = servers();
  vi.setConfig({ testTimeout: 90_000 });
  const browser = suiteBrowser();

  it("shows the organisation's usage against each limit, live", async () => {
    const { server } = await start({ auth: true });
    const token = server.auth?.bootstrapToken as string;
    const headers = { authorization: `Bearer ${token}` };
    const gate = mkdtempSync(join(tmpdir(), 'myrmex-quota-ui-'));
    try {
      await apply(
        server.url,
        `job_type: held\ntasks:\n  - task_type: a\n    script: ["while [ ! -f ${gate}/go ]; do sleep 0.05; done"]\n`,
        headers,
      );
      expect((await req(server, 'PUT', '/api/quotas', token, { resource: 'running_jobs', hard: 4, soft: 3 })).status).toBe(200);
      expect((await req(server, 'PUT', '/api/quotas', token, { resource: 'cpu_hours', hard: 10 })).status).toBe(200);
      const job = await submit(server.url, 'held', {}, headers);
      const page = await browser.newPage();
      await page.goto(`${server.url}/#/quotas`);
      await page.getByLabel('API token').fill(token);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Quotas of default' }).waitFor();
      const running = page.locator('[data-quota="running_jobs"]');
      await running.getByText('1 of 4').waitFor();
      expect(await running.getByRole('meter').getAttribute('high')).toBe('3');
      await page
        .locator('[data-quota="cpu_hours"]')
        .getByText(/of 10 h today/)
        .waitFor();
      writeFileSync(join(gate, 'go'), '');
      expect(await waitForEnd(server.url, job.id, headers)).toBe('COMPLETED');
      // The page polls: the finished job's place is free again without a reload.
      await running.getByText('0 of 4').waitFor();
      await page.close();
    } finally {
      rmSync(gate, { recursive: true, force: true });
    }
  });
});

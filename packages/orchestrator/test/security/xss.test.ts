import { expect, it, vi } from 'vitest';
import { browserGate, suiteBrowser } from '../observability/browser.js';
import { apply, servers, submit, waitForEnd } from '../observability/helpers.js';

/** What a hostile task prints: markup and script in log lines, an output value, and a param echoed back. */
const PAYLOADS = [
  `<img src=x onerror="window.__xss='img'">`,
  `<script>window.__xss='script'</script>`,
  `<svg onload="window.__xss='svg'"></svg>`,
  `"><iframe srcdoc="<script>parent.__xss='iframe'</script>">`,
  `javascript:window.__xss='href'`,
];

const HOSTILE = `job_type: hostile
tasks:
  - task_type: print
    script:
${PAYLOADS.map((p) => `      - ${JSON.stringify(`printf '%s\\n' '${p.replaceAll("'", "'\\''")}'`)}`).join('\n')}
      - ${JSON.stringify(`echo '::set-output name=Payload::<img src=x onerror="window.__xss=\\x27output\\x27">'`)}
      - echo "param {{.name}}"
`;

interface XssGlobals {
  __xss?: string;
  document: { querySelectorAll(selector: string): { length: number } };
}

browserGate.describe('hostile task output in the dashboard', () => {
  const start = servers();
  vi.setConfig({ testTimeout: 90_000 });
  const browser = suiteBrowser();

  it('is shown as text: no markup, script or handler from a log line, output or param runs', async () => {
    const { server } = await start();
    await apply(server.url, HOSTILE);
    const job = await submit(server.url, 'hostile', { name: `<img src=x onerror="window.__xss='param'">` });
    expect(await waitForEnd(server.url, job.id)).toBe('COMPLETED');
    const page = await browser.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await page.goto(`${server.url}/#/jobs/${job.id}`);
    // The page has rendered the lines (as text) before it is checked.
    await page.locator('.log-box', { hasText: `<script>window.__xss='script'</script>` }).waitFor();
    await page.locator('.log-box', { hasText: 'param <img src=x' }).waitFor();
    const state = await page.evaluate(() => {
      const w = globalThis as unknown as XssGlobals;
      return {
        xss: w.__xss,
        images: w.document.querySelectorAll('img[src="x"]').length,
        frames: w.document.querySelectorAll('iframe').length,
      };
    });
    expect(state).toEqual({ xss: undefined, images: 0, frames: 0 });
    expect(dialogs).toEqual([]);
    await page.close();
  });
});

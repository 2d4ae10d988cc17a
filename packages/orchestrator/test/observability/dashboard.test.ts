import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { expect, it, vi } from 'vitest';
import { createLogger, RemoteAnt } from '../../src/index.js';
import { browserGate, launch, suiteBrowser } from './browser.js';
import { apply, servers, submit, waitForEnd } from './helpers.js';

/** The little of the DOM these tests read inside the page (the test project has no DOM types). */
interface BrowserGlobals {
  document: {
    documentElement: { dataset: Record<string, string | undefined>; scrollWidth: number };
    activeElement: { textContent: string | null } | null;
  };
}

const docs = new URL('../../../../docs/', import.meta.url);
/** Screenshots replace the ones in docs/ only when asked, so a test run leaves the tree clean. */
const keepScreenshots = process.env.MYRMEX_UPDATE_SCREENSHOTS === '1';

const DIAMOND = `job_type: diamond
tasks:
  - task_type: fetch
    script: [echo fetched]
  - task_type: left
    needs: [fetch]
    script: [echo left]
  - task_type: right
    needs: [fetch]
    script: [echo right]
  - task_type: join
    needs: [left, right]
    script: ["echo ::set-output name=Result::joined", "printf 'the result' > result.txt"]
    artifacts: { paths: [result.txt] }
`;

const gated = (dir: string) => `job_type: gated
tasks:
  - task_type: hold
    timeout: 60s
    script:
      - echo waiting for the gate
      - echo $$ > ${dir}/pid
      - while [ ! -f ${dir}/open ]; do sleep 0.05; done
      - echo gate open
`;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function shot(page: Page, name: string) {
  const buffer = await page.screenshot({ fullPage: name !== 'jobs' });
  expect(buffer.length).toBeGreaterThan(10_000);
  if (keepScreenshots) await page.screenshot({ path: join(docs.pathname, `dashboard-${name}.png`), fullPage: name !== 'jobs' });
}

browserGate.describe('the dashboard in Chromium, against a real queen', () => {
  const start = servers();
  // A browser and a queen share two loaded cores in CI: each test waits for conditions, for up to 90 s.
  vi.setConfig({ testTimeout: 90_000 });
  const browser = suiteBrowser();

  it('is served at / beside /api, and shows job states changing live without a reload', async () => {
    const { server } = await start();
    const dir = server.dbPath.replace(/queen\.db$/, '');
    await apply(server.url, DIAMOND);
    await apply(server.url, gated(dir));
    const done = await submit(server.url, 'diamond');
    await waitForEnd(server.url, done.id);

    const page = await browser.newPage();
    await page.goto(`${server.url}/`);
    await page.getByRole('heading', { name: 'Jobs' }).waitFor();
    await page.locator(`tr[data-job-id="${done.id}"] .badge`, { hasText: 'COMPLETED' }).waitFor();

    const held = await submit(server.url, 'gated');
    // No reload: the row appears and turns EXECUTING through the event stream.
    await page.locator(`tr[data-job-id="${held.id}"] .badge`, { hasText: 'EXECUTING' }).waitFor();
    await shot(page, 'jobs');
    await import('node:fs/promises').then((fs) => fs.writeFile(join(dir, 'open'), ''));
    await page.locator(`tr[data-job-id="${held.id}"] .badge`, { hasText: 'COMPLETED' }).waitFor();

    // Filters: FAILED shows nothing here; the text search narrows to one type.
    await page.getByLabel('State').selectOption('FAILED');
    await page.getByText('No job matches these filters.').waitFor();
    await page.getByLabel('State').selectOption('');
    await page.getByLabel('Search').fill('diamond');
    await expect.poll(() => page.locator('table.jobs tbody tr[data-job-id]').count()).toBe(1);
    await page.close();
  });

  it('catches up on transitions made before its event stream was open: the list refetches when the stream connects', async () => {
    const { server } = await start();
    const dir = server.dbPath.replace(/queen\.db$/, '');
    await apply(server.url, gated(dir));
    const page = await browser.newPage();
    // The shared event stream is held back until the job is already running, as a loaded machine can do.
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    await page.route('**/api/jobs/events', async (route) => {
      await held;
      await route.continue();
    });
    await page.goto(`${server.url}/`);
    await page.getByText('No job matches these filters.').waitFor();
    const job = await submit(server.url, 'gated');
    await expect
      .poll(async () => ((await (await fetch(`${server.url}/api/jobs/requests/${job.id}`)).json()) as { state: string }).state)
      .toBe('EXECUTING');
    release();
    await page.locator(`tr[data-job-id="${job.id}"] .badge`, { hasText: 'EXECUTING' }).waitFor();
    await import('node:fs/promises').then((fs) => fs.writeFile(join(dir, 'open'), ''));
    await page.locator(`tr[data-job-id="${job.id}"] .badge`, { hasText: 'COMPLETED' }).waitFor();
    await page.close();
  });

  it('pages the job list by cursor: Older and Newer walk keyset pages of 25, newest first', async () => {
    const { server } = await start();
    await apply(server.url, 'job_type: later\ntasks:\n  - task_type: a\n    script: [echo later]\n');
    // Scheduled an hour ahead, the jobs stay PENDING: the list is what paging is about, not their runs.
    const at = new Date(Date.now() + 3_600_000).toISOString();
    const ids: string[] = [];
    for (let i = 0; i < 27; i++) {
      const response = await fetch(`${server.url}/api/jobs/requests`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ job_type: 'later', params: { n: i }, scheduled_at: at }),
      });
      ids.push(((await response.json()) as { id: string }).id);
    }
    const page = await browser.newPage();
    await page.goto(`${server.url}/`);
    const rows = page.locator('table.jobs tbody tr[data-job-id]');
    await page.locator(`tr[data-job-id="${ids[26]}"]`).waitFor();
    expect(await rows.count()).toBe(25);
    await page.getByRole('button', { name: 'Older →' }).click();
    await page.getByText('Page 2').waitFor();
    await expect.poll(() => rows.evaluateAll((els) => els.map((el) => el.getAttribute('data-job-id')))).toEqual([ids[1], ids[0]]);
    expect(await page.getByRole('button', { name: 'Older →' }).isDisabled()).toBe(true);
    // Each waiting row says why it waits, in the scheduler's words.
    await page.locator(`tr[data-job-id="${ids[0]}"] td.reason`, { hasText: /^scheduled: not before / }).waitFor();
    await page.getByRole('button', { name: '← Newer' }).click();
    await page.getByText('Page 1').waitFor();
    await page.locator(`tr[data-job-id="${ids[26]}"]`).waitFor();
    // A waiting job's page says why it waits, in the scheduler's words.
    await page.locator(`tr[data-job-id="${ids[26]}"] a`).click();
    const waits = page.getByRole('region', { name: 'Why it waits' });
    await waits.getByText(/^scheduled: not before /).waitFor();
    await waits.getByText('schedule', { exact: true }).waitFor();
    await page.close();
  });

  it('sends the time range and the search to the server: a job beyond the first page is found by its id', async () => {
    const { server } = await start();
    await apply(server.url, 'job_type: later\ntasks:\n  - task_type: a\n    script: [echo later]\n');
    const at = new Date(Date.now() + 3_600_000).toISOString();
    const response = await fetch(`${server.url}/api/jobs/requests/bulk`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ requests: Array.from({ length: 30 }, (_, n) => ({ job_type: 'later', params: { n }, scheduled_at: at })) }),
    });
    const ids = ((await response.json()) as { items: { id: string }[] }).items.map((job) => job.id);
    const oldest = ids[0]!;
    const page = await browser.newPage();
    const asked: URL[] = [];
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.pathname === '/api/jobs/requests') asked.push(url);
    });
    await page.goto(`${server.url}/`);
    const rows = page.locator('table.jobs tbody tr[data-job-id]');
    await page.locator(`tr[data-job-id="${ids[29]}"]`).waitFor();
    expect(await rows.count()).toBe(25);
    expect(await page.locator(`tr[data-job-id="${oldest}"]`).count()).toBe(0);

    // The oldest job is on the second page; a search for its id asks the server and finds it.
    await page.getByLabel('Search').fill(oldest.toUpperCase());
    await page.locator(`tr[data-job-id="${oldest}"]`).waitFor();
    await expect.poll(() => rows.count()).toBe(1);
    expect(asked.some((url) => url.searchParams.get('text') === oldest.toUpperCase())).toBe(true);
    // Only the text searched for went to the server (the page filtered nothing itself).
    expect(new Set(asked.map((url) => url.searchParams.get('text')).filter((text) => text !== null))).toEqual(
      new Set([oldest.toUpperCase()]),
    );

    // The time range goes to the server as submitted_after (an hour ago), with the search.
    await page.getByLabel('Submitted').selectOption('1h');
    await expect.poll(() => asked.find((url) => url.searchParams.has('submitted_after') && url.searchParams.has('text'))).toBeDefined();
    const ranged = asked.find((url) => url.searchParams.has('submitted_after'))!;
    expect(Math.abs(Date.parse(ranged.searchParams.get('submitted_after')!) - (Date.now() - 3_600_000))).toBeLessThan(60_000);
    await page.locator(`tr[data-job-id="${oldest}"]`).waitFor();

    // Cleared, the search shows the newest page again, with Older to walk on by cursor.
    await page.getByLabel('Search').fill('');
    await page.locator(`tr[data-job-id="${ids[29]}"]`).waitFor();
    await expect.poll(() => rows.count()).toBe(25);
    expect(await page.getByRole('button', { name: 'Older →' }).isDisabled()).toBe(false);
    await page.close();
  });

  it('draws the DAG of the definition, and its routes taken, with each task in its state', async () => {
    const { server } = await start();
    await apply(server.url, DIAMOND);
    const job = await submit(server.url, 'diamond');
    expect(await waitForEnd(server.url, job.id)).toBe('COMPLETED');

    const page = await browser.newPage();
    await page.goto(`${server.url}/#/jobs/${job.id}`);
    await page.locator('.react-flow__node').first().waitFor();
    const nodes = await page.locator('.react-flow__node').evaluateAll((els) => els.map((el) => el.getAttribute('data-id')).sort());
    expect(nodes).toEqual(['fetch', 'join', 'left', 'right']);
    const edges = await page
      .locator('.react-flow__edge')
      .evaluateAll((els) => els.map((el) => (el.getAttribute('data-id') ?? '').replace(/-\d+$/, '')).sort());
    expect(edges).toEqual(['fetch-left', 'fetch-right', 'left-join', 'right-join']);
    expect(await page.locator('.react-flow__node.state-completed').count()).toBe(4);
    expect(await page.locator('.react-flow__edge.taken').count()).toBe(4);
    // Outputs, attempts and logs of the job are on the same page.
    await page.getByRole('row', { name: /join/ }).getByText('Result=joined').waitFor();
    await page.locator('.gantt-bar').nth(3).waitFor();
    await page.locator('.log-box', { hasText: 'fetched' }).waitFor();
    // The artifact the join task left, downloadable from the page.
    const artifact = page.locator('tr[data-artifact="result.txt"] a');
    await artifact.waitFor();
    const download = await fetch(`${server.url}/${await artifact.getAttribute('href')}`);
    expect(await download.text()).toBe('the result');
    await shot(page, 'job');
    await page.close();
  });

  it('asks for a token when the queen requires one, and its session cookie reaches every request and event stream', async () => {
    const { server } = await start({ auth: true });
    const token = server.auth?.bootstrapToken as string;
    expect(token).toMatch(/^myx_/);
    const dir = server.dbPath.replace(/queen\.db$/, '');
    const headers = { authorization: `Bearer ${token}` };
    await apply(server.url, gated(dir), headers);
    const page = await browser.newPage();
    await page.goto(`${server.url}/`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByLabel('API token').fill('myx_not_a_real_token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'cannot sign in' }).waitFor();
    await page.getByLabel('API token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Jobs' }).waitFor();
    // The token itself is not kept by the page: the HttpOnly session cookie carries it.
    expect(await page.evaluate(() => (globalThis as unknown as { document: { cookie: string } }).document.cookie)).not.toContain(token);
    // The shared event stream is signed in too: a new job appears and changes state without a reload.
    const held = await submit(server.url, 'gated', {}, headers);
    await page.locator(`tr[data-job-id="${held.id}"] .badge`, { hasText: 'EXECUTING' }).waitFor();
    await page.locator(`tr[data-job-id="${held.id}"] a`).click();
    await page.locator('.log-box', { hasText: 'waiting for the gate' }).waitFor();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.locator('.job-head .badge', { hasText: 'CANCELLED' }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.close();
  });

  it('shows every ant, a remote one with its labels and resources, and the tasks each runs', async () => {
    const { server } = await start({ antTokens: 'ant-secret-for-the-dashboard' });
    const dir = server.dbPath.replace(/queen\.db$/, '');
    const remote = new RemoteAnt({
      servers: [server.url],
      token: 'ant-secret-for-the-dashboard',
      id: 'remote-gpu-1',
      capacity: 2,
      tags: ['gpu'],
      labels: { zone: 'eu-west' },
      resources: { cpu: '8', memory: '16Gi' },
      stateDir: join(dir, 'ant-state'),
      logger: createLogger({ format: 'json', write: () => {} }),
    });
    await remote.start();
    try {
      await apply(
        server.url,
        gated(dir).replace('job_type: gated', 'job_type: gated-gpu').replace('    timeout: 60s', '    timeout: 60s\n    tags: [gpu]'),
      );
      const job = await submit(server.url, 'gated-gpu');
      const page = await browser.newPage();
      await page.goto(`${server.url}/#/ants`);
      const card = page.locator('article[data-ant="remote-gpu-1"]');
      await card.getByText('remote').first().waitFor();
      await card.getByText('zone=eu-west').waitFor();
      await card.getByText('cpu=8, memory=16Gi').waitFor();
      // The task runs on the remote ant, and its card links to the job.
      const running = card.locator(`li[data-assignment="${job.id}/hold/1"] a`);
      await running.waitFor();
      await card.getByText('Running 1 of 2').waitFor();
      await page.locator('article[data-ant]').first().waitFor();
      expect(await page.locator('article[data-ant]').count()).toBe(2);
      await shot(page, 'ants');
      await running.click();
      await page.locator('.job-head .badge', { hasText: 'EXECUTING' }).waitFor();
      await page.getByRole('button', { name: 'Cancel' }).click();
      await page.locator('.job-head .badge', { hasText: 'CANCELLED' }).waitFor();
      await page.close();
    } finally {
      await remote.stop();
    }
  });

  it('cancels a running job from the page, which kills its process', async () => {
    const { server } = await start();
    const dir = server.dbPath.replace(/queen\.db$/, '');
    await apply(server.url, gated(dir));
    const job = await submit(server.url, 'gated');
    const page = await browser.newPage();
    await page.goto(`${server.url}/#/jobs/${job.id}`);
    await page.locator('.job-head .badge', { hasText: 'EXECUTING' }).waitFor();
    await expect.poll(() => existsSync(join(dir, 'pid'))).toBe(true);
    const pid = Number(readFileSync(join(dir, 'pid'), 'utf8'));
    expect(alive(pid)).toBe(true);
    await page.locator('.log-box', { hasText: 'waiting for the gate' }).waitFor();

    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.locator('.job-head .badge', { hasText: 'CANCELLED' }).waitFor();
    await expect.poll(() => alive(pid), { timeout: 10_000 }).toBe(false);
    await page.getByRole('button', { name: 'Restart' }).waitFor();
    await page.close();
  });

  it('approves a MANUAL task from the Job page with a comment, and the decision lands in the timeline', async () => {
    const { server } = await start();
    await apply(
      server.url,
      `job_type: approval
tasks:
  - task_type: gate
    method: MANUAL
    approval_policy: { min_approvals: 1, sla_deadline: 1h }
    on_exit_code: { APPROVED: ship, REJECTED: stop }
  - task_type: ship
    script: [echo shipped]
  - task_type: stop
    script: [echo stopped]
`,
    );
    const job = await submit(server.url, 'approval');
    const page = await browser.newPage();
    await page.goto(`${server.url}/#/jobs/${job.id}`);
    const card = page.locator('[data-approval="gate"]');
    await card.locator('.votes', { hasText: 'no votes yet' }).waitFor();
    await expect(card.textContent()).resolves.toMatch(/1 approval, due .* then AUTO_REJECT/);
    await card.getByLabel('Comment').fill('ship it');
    await card.getByRole('button', { name: 'Approve' }).click();
    await page.locator('.job-head .badge', { hasText: 'COMPLETED' }).waitFor();
    await page.locator('.timeline li', { hasText: 'APPROVED by anonymous (anonymous: ship it)' }).waitFor();
    await expect(card.count()).resolves.toBe(0);
    expect(await waitForEnd(server.url, job.id)).toBe('COMPLETED');
    await page.close();
  });

  it('shows definitions with validation errors in place, ants and the queue; dark mode on a phone', async () => {
    const { server } = await start();
    await apply(server.url, DIAMOND);
    await apply(server.url, DIAMOND.replace('echo joined', 'echo joined twice').replace('[echo left]', '[echo left; echo again]'));
    const page = await browser.newPage();
    await page.goto(`${server.url}/#/definitions/diamond`);
    await page.getByLabel('Compare with').selectOption('1');
    await page.locator('.diff .added', { hasText: 'echo again' }).waitFor();
    await page.getByLabel('YAML').fill('job_type: broken\ntasks:\n  - task_type: a\n    scriptt: [true]\n');
    await page.getByRole('button', { name: 'Validate and apply' }).click();
    // The error sits under the line it names.
    await page.locator('.line.has-error', { hasText: 'scriptt' }).locator('.inline-error').waitFor();
    await shot(page, 'definitions');

    await page.goto(`${server.url}/#/ants`);
    await page.getByText('Running 0 of 4').waitFor();
    // A task no ant can take (no ant has the gpu tag) waits, charged to its tenant.
    await apply(server.url, 'job_type: held\ntasks:\n  - task_type: never\n    tags: [gpu]\n    script: [echo never]\n');
    await submit(server.url, 'held', { tenant: 'acme' });
    await page.goto(`${server.url}/#/queue`);
    await page
      .getByRole('table', { name: /oldest waiting/ })
      .getByRole('cell', { name: 'acme' })
      .waitFor();
    await page.getByRole('heading', { name: 'Queue and scheduling' }).waitFor();
    await page.locator('.chart canvas').first().waitFor();
    // The scheduler's own numbers: passes (from its pass reports) and what held work back.
    await expect
      .poll(async () => Number(/(\d+) scheduler passes/.exec((await page.locator('main').textContent()) ?? '')?.[1] ?? 0))
      .toBeGreaterThan(0);
    await page.getByRole('table', { name: /held back/ }).waitFor();
    await page.close();

    await waitForEnd(server.url, (await submit(server.url, 'diamond')).id);
    const phone = await launch({ width: 390, height: 844 });
    try {
      const small = await phone.context.newPage();
      await small.emulateMedia({ colorScheme: 'dark' });
      await small.goto(`${server.url}/`);
      await small.getByRole('heading', { name: 'Jobs' }).waitFor();
      expect(await small.evaluate(() => (globalThis as unknown as BrowserGlobals).document.documentElement.dataset.theme)).toBe('dark');
      // Nothing overflows sideways on a phone.
      expect(
        await small.evaluate(() => (globalThis as unknown as BrowserGlobals).document.documentElement.scrollWidth),
      ).toBeLessThanOrEqual(390);
      await small.locator('table.jobs .badge', { hasText: 'COMPLETED' }).waitFor();
      await shot(small, 'phone-dark');
      // Keyboard: the first Tab reaches the skip link.
      await small.keyboard.press('Tab');
      expect(await small.evaluate(() => (globalThis as unknown as BrowserGlobals).document.activeElement?.textContent)).toBe(
        'Skip to content',
      );
    } finally {
      await phone.close();
    }
  });
});

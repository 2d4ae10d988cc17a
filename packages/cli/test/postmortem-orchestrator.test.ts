import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, type RunningServer, serve } from '@myrmex/orchestrator';
import { parse } from '@myrmex/postmortem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/index.js';
import { capture } from './support/capture.js';

// The postmortem package speaks the orchestrator's HTTP API without depending on it; this test runs
// the two together: a real queen runs the example jobs, and a draft is made from the one that fails.
const examplesDir = fileURLToPath(new URL('../../../examples/orchestrator', import.meta.url));

describe('myrmex postmortem new --from-job against a running orchestrator', () => {
  let dir: string;
  let server: RunningServer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'myrmex-postmortem-queen-'));
    server = await serve({
      port: 0,
      handleSignals: false,
      dbPath: join(dir, 'queen.db'),
      demo: true,
      examplesDir,
      logger: createLogger({ write: () => {} }),
    });
  });

  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('drafts a post-mortem whose timeline is the failed job event log', async () => {
    const ended = (await server.demo?.finished) ?? [];
    const failed = ended.find((job) => job.state === 'FAILED');
    if (!failed) throw new Error(`the demo produced no failed job: ${ended.map((j) => `${j.jobType} ${j.state}`).join(', ')}`);
    const { io, out, err } = capture();
    expect(await main(['postmortem', 'new', '--from-job', failed.id, '--server', server.url], io, {})).toBe(0);
    expect(err).toEqual([]);
    const { doc, diagnostics } = parse(out.join(''));
    expect(diagnostics).toEqual([]);
    expect(doc.frontMatter.service).toBe(failed.jobType);
    expect(doc.extraFrontMatter.job_id).toBe(failed.id);
    const entries = doc.timeline?.entries ?? [];
    expect(entries.length).toBeGreaterThan(2);
    expect(entries.at(-1)?.text).toMatch(/^job: \w+ -> FAILED/);
    expect(doc.summary).toMatch(new RegExp(`Job ${failed.id} \\(${failed.jobType}\\) was submitted at .* and ended FAILED`));
    expect(doc.summary).toMatch(/Failing tasks: \S+ \(FAILED/);
  });
});

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse } from '@myrmex/postmortem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/index.js';
import { capture } from './support/capture.js';

const examples = fileURLToPath(new URL('../../../examples/postmortem/', import.meta.url));
const docs = join(examples, 'postmortems');
const clean = join(docs, '2026-11-03-order-api.md');
const withErrors = join(docs, '2026-10-14-search-latency.md');
const corpus = fileURLToPath(new URL('../../postmortem/test/corpus/good/', import.meta.url));

async function run(...argv: string[]) {
  const { io, out, err } = capture();
  const code = await main(['postmortem', ...argv], io, {});
  return { code, out: out.join(''), err: err.join('') };
}

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'myrmex-postmortem-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('myrmex postmortem lint', () => {
  it('exits 0 on a clean post-mortem', async () => {
    const result = await run('lint', clean);
    expect(result).toMatchObject({ code: 0, out: '0 errors, 0 warnings, 0 notes in 1 file' });
  });

  it('exits 1 on findings at error severity, and prints them as JSON', async () => {
    const result = await run('lint', docs, '--format', 'json');
    expect(result.code).toBe(1);
    const findings = JSON.parse(result.out) as Record<string, unknown>[];
    for (const f of findings) expect(Object.keys(f)).toEqual(['file', 'rule', 'severity', 'line', 'message']);
    expect(findings.map((f) => [f.file, f.rule, f.line])).toEqual([
      [withErrors, 'timeline-gap', 49],
      [withErrors, 'action-investigate', 118],
      [withErrors, 'action-owner-is-team', 118],
    ]);
  });

  it('exits 0 when the only findings are warnings', async () => {
    const file = join(scratch, 'warnings.md');
    await writeFile(file, (await readFile(clean, 'utf8')).replace('- 09:58 - On-call', '- 10:20 - On-call'));
    const result = await run('lint', file);
    expect(result.code).toBe(0);
    expect(result.out).toContain('timeline-gap');
  });

  it('applies an organisation configuration', async () => {
    const result = await run('lint', docs, '--format', 'json', '--config', join(examples, 'postmortem.config.yaml'));
    expect((JSON.parse(result.out) as { rule: string }[]).map((f) => f.rule)).toEqual(['action-investigate', 'action-owner-is-team']);
  });

  it('writes SARIF 2.1.0', async () => {
    const result = await run('lint', withErrors, '--format', 'sarif');
    const log = JSON.parse(result.out) as {
      version: string;
      runs: { results: { ruleId: string; locations: { physicalLocation: { region: { startLine: number } } }[] }[] }[];
    };
    expect(log.version).toBe('2.1.0');
    expect(log.runs[0]?.results.map((r) => [r.ruleId, r.locations[0]?.physicalLocation.region.startLine])).toEqual([
      ['timeline-gap', 49],
      ['action-investigate', 118],
      ['action-owner-is-team', 118],
    ]);
  });

  it('--preset reviews a file against a template, and refuses an unknown one', async () => {
    const google = join(scratch, 'google-style.md');
    const text = await readFile(join(corpus, 'google-sre.md'), 'utf8');
    await writeFile(google, text.replace('template: google-sre\n', ''));
    const plain = await run('lint', google, '--format', 'json');
    expect(plain.code).toBe(1);
    expect(JSON.parse(plain.out).map((f: { rule: string }) => f.rule)).toContain('timeline-entry-malformed');
    expect(await run('lint', google, '--preset', 'google-sre')).toMatchObject({ code: 0 });
    expect((await run('lint', google, '--preset', 'nasa')).code).toBe(2);
  });

  it('exits 2 on unreadable input, still linting what it can read', async () => {
    const result = await run('lint', clean, join(scratch, 'missing.md'));
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/cannot read .*missing\.md: ENOENT/);
    expect(result.out).toBe('0 errors, 0 warnings, 0 notes in 1 file');
    const binary = join(scratch, 'binary.md');
    await writeFile(binary, Buffer.from([0xff, 0xfe, 0x00, 0x41]));
    expect(await run('lint', binary)).toMatchObject({ code: 2, err: expect.stringContaining('not valid UTF-8') });
    const sarif = await run('lint', clean, binary, '--format', 'sarif');
    const invocation = (
      JSON.parse(sarif.out) as {
        runs: { invocations: { executionSuccessful: boolean; toolExecutionNotifications: { message: { text: string } }[] }[] }[];
      }
    ).runs[0]?.invocations[0];
    expect(invocation?.executionSuccessful).toBe(false);
    expect(invocation?.toolExecutionNotifications.map((n) => n.message.text)).toEqual(['cannot read: not valid UTF-8']);
  });

  it('exits 2 on a bad configuration, naming file and line, and on a bad format', async () => {
    const config = join(scratch, 'bad.yaml');
    await writeFile(config, 'rules:\n  timeline-gap:\n    maxMinutes: -3\n');
    const result = await run('lint', clean, '--config', config);
    expect(result.code).toBe(2);
    expect(result.err).toContain(`${config}:3: timeline-gap.maxMinutes:`);
    expect((await run('lint', clean, '--format', 'xml')).code).toBe(2);
  });
});

describe('myrmex postmortem new', () => {
  it('prints a template with every section', async () => {
    const result = await run('new', '--title', 'Users unable to pay for 5 minutes');
    expect(result.code).toBe(0);
    const parsed = parse(result.out);
    expect(parsed.diagnostics).toEqual([]);
    expect(parsed.doc.frontMatter).toMatchObject({ title: 'Users unable to pay for 5 minutes', status: 'draft' });
    expect(parsed.doc.actions?.items).toHaveLength(1);
  });

  it('writes --out and refuses to overwrite it without --force', async () => {
    const out = join(scratch, 'new.md');
    expect(await run('new', '--out', out)).toMatchObject({ code: 0, err: `wrote ${out}` });
    expect(await run('new', '--out', out)).toMatchObject({ code: 1, err: expect.stringContaining('exists; pass --force') });
    expect((await run('new', '--out', out, '--force')).code).toBe(0);
  });

  it('fills the draft from a job served over HTTP on loopback', async () => {
    const job = JSON.parse(await readFile(join(examples, 'job.json'), 'utf8')) as { id: string };
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(req.url ?? '');
      const found = req.url === `/api/jobs/requests/${job.id}`;
      res.writeHead(found ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify(found ? job : { error: 'no such job' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const result = await run('new', '--from-job', job.id, '--server', url, '--title', 'Customers not invoiced for a day');
      expect(result.code).toBe(0);
      const doc = parse(result.out).doc;
      expect([doc.frontMatter.title, doc.preamble, doc.extraFrontMatter.job_id]).toEqual([
        'Customers not invoiced for a day',
        '# Customers not invoiced for a day',
        job.id,
      ]);
      expect(doc.timeline?.entries.map((e) => `${e.time} ${e.text}`)).toContain(
        '02:41:30 task charge-cards: EXECUTING -> FAILED (payment gateway timed out)',
      );
      expect(doc.summary).toContain('Failing tasks: charge-cards (FAILED, exit code 3, 2 attempts');
      const missing = await run('new', '--from-job', 'nope', '--server', url);
      expect(missing).toMatchObject({ code: 1, err: 'myrmex: GET /api/jobs/requests/nope answered 404: {"error":"no such job"}' });
      expect(seen).toEqual([`/api/jobs/requests/${job.id}`, '/api/jobs/requests/nope']);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('exits 2 when --from-job has no server', async () => {
    expect(await run('new', '--from-job', 'x')).toMatchObject({
      code: 2,
      err: 'myrmex: --from-job needs --server <url> (or MYRMEX_SERVER)',
    });
  });
});

describe('myrmex postmortem actions', () => {
  it('summarises action items across documents as of a day', async () => {
    const result = await run('actions', docs, '--today', '2026-12-20', '--json');
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.out) as Record<string, unknown>;
    expect(summary).toMatchObject({ today: '2026-12-20', total: 9, done: 2, open: 7, overdue: 6 });
    expect((summary.byPriority as Record<string, unknown>).High).toEqual({ total: 4, open: 2, done: 2, overdue: 2 });
  });

  it('prints a readable report and rejects a bad --today', async () => {
    const text = await run('actions', docs, '--today', '2026-12-20');
    expect(text.out).toContain('Action items as of 2026-12-20: 9 total, 7 open, 6 overdue, 2 done');
    expect((await run('actions', docs, '--today', 'tomorrow')).code).toBe(2);
  });
});

describe('myrmex postmortem patterns', () => {
  it('writes a Markdown report and an SVG chart', async () => {
    const out = join(scratch, 'patterns');
    const result = await run('patterns', docs, '--out', out);
    expect(result.code).toBe(0);
    const report = await readFile(join(out, 'patterns.md'), 'utf8');
    expect(report).toContain('| Pattern | 2026-10 | 2026-11 | 2026-12 | Total |');
    expect(report).toContain('| Deployment-related | 1 | 1 | 0 | 2 |');
    expect(report).toContain('![Patterns per month](patterns.svg)');
    const links = [...report.matchAll(/\]\(([^)]+\.md)\)/g)].map((m) => decodeURI(m[1] ?? ''));
    expect(links.length).toBeGreaterThan(0);
    for (const link of links) await expect(readFile(join(out, link), 'utf8')).resolves.toContain('## Action items');
    expect(await readFile(join(out, 'patterns.svg'), 'utf8')).toMatch(/^<svg [^>]*>[\s\S]*<\/svg>\n$/);
  });
});

describe('the myrmex binary', () => {
  it('lints as a child process with the documented exit code (needs a build: npm run build)', async () => {
    const bin = fileURLToPath(new URL('../bin/myrmex.js', import.meta.url));
    const error = await promisify(execFile)(process.execPath, [bin, 'postmortem', 'lint', '--format', 'json', withErrors]).then(
      () => undefined,
      (e: { code: number; stdout: string }) => e,
    );
    expect(error?.code).toBe(1);
    expect((JSON.parse(error?.stdout ?? '[]') as { rule: string }[]).map((f) => f.rule)).toEqual([
      'timeline-gap',
      'action-investigate',
      'action-owner-is-team',
    ]);
  });
});

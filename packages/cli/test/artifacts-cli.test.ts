import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Queen } from '@myrmex/orchestrator';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/index.js';
import { capture } from './support/capture.js';
import { ended, servedQueen } from './support/served-queen.js';

/** `myrmex artifacts` in-process against a real queen and API on loopback. */
describe('myrmex artifacts', () => {
  const served = servedQueen('myrmex-cli-artifacts-');
  let dir: string;
  let queen: Queen;
  let url: string;
  let jobId: string;

  beforeAll(async () => {
    ({ queen, url, dir } = served.current);
    await queen.applyDefinition(`job_type: cli-artifacts
tasks:
- task_type: build
  method: SHELL
  script: ['mkdir -p dist', 'echo app > dist/app.txt']
  artifacts: { paths: [dist] }
  on_completed: test
- task_type: test
  method: SHELL
  script: ['echo ok > report.txt']
  artifacts: { paths: [report.txt] }
`);
    jobId = (await queen.submit({ jobType: 'cli-artifacts' })).id;
    await ended(queen, jobId);
  });

  it('lists, filters by task, and downloads keeping paths (one folder per task when several)', async () => {
    const list = capture();
    expect(await main(['artifacts', jobId, '--server', url], list.io)).toBe(0);
    expect(list.out.map((line) => line.split('  ').slice(0, 3).join(' '))).toEqual(['build#1 dist/app.txt 4 B', 'test#1 report.txt 3 B']);

    const json = capture();
    expect(await main(['artifacts', jobId, '--server', url, '--task', 'test', '--json'], json.io)).toBe(0);
    expect(JSON.parse(json.out.join(''))).toMatchObject([{ task_type: 'test', path: 'report.txt', size: 3 }]);

    const out = join(dir, 'one');
    const one = capture();
    expect(await main(['artifacts', jobId, '--server', url, '--task', 'build', '--download', '-o', out], one.io)).toBe(0);
    expect(readFileSync(join(out, 'dist/app.txt'), 'utf8')).toBe('app\n');

    const all = join(dir, 'all');
    expect(await main(['artifacts', jobId, '--server', url, '-d', '-o', all], capture().io)).toBe(0);
    expect(readFileSync(join(all, 'build/dist/app.txt'), 'utf8')).toBe('app\n');
    expect(readFileSync(join(all, 'test/report.txt'), 'utf8')).toBe('ok\n');
  });

  it('says so when nothing matches, and fails a download of nothing', async () => {
    const none = capture();
    expect(await main(['artifacts', jobId, '--server', url, '--task', 'nope'], none.io)).toBe(0);
    expect(none.out).toEqual([`job ${jobId} has no artifacts from task nope`]);
    const fail = capture();
    expect(await main(['artifacts', jobId, '--server', url, '--task', 'nope', '-d'], fail.io)).not.toBe(0);
    expect(fail.err.join('\n')).toMatch(/no artifact matching/);
  });
});

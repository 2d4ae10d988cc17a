import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../src/index.js';
import { capture } from './support/capture.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'myrmex-sim-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function sim(...argv: string[]) {
  const { io, out, err } = capture();
  const code = await main(['sim', ...argv], io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('myrmex sim', () => {
  it('compares profiles side by side in one table, with a progress bar on stderr', async () => {
    const { code, out, err } = await sim('--jobs', '2000', '--ants', '4', '--profile', 'fcfs', '--profile', 'sjf', '--seed', '3');
    expect(code).toBe(0);
    expect(out).toMatch(/^metric\s+fcfs\s+sjf$/m);
    expect(out).toMatch(/^jobs done \/ given up\s+2000 \/ 0\s+2000 \/ 0$/m);
    const mean = (name: string) => Number(new RegExp(`^${name}\\s+([\\d.]+)\\s+([\\d.]+)$`, 'm').exec(out)!.slice(1)[1]);
    // SJF's whole point: a lower mean wait than FCFS on the same jobs.
    const [fcfsWait, sjfWait] = /^wait mean \(s\)\s+([\d.]+)\s+([\d.]+)$/m.exec(out)!.slice(1).map(Number);
    expect(sjfWait).toBeLessThan(fcfsWait!);
    expect(mean('slowdown mean')).toBeGreaterThan(0);
    expect(err).toMatch(/^fcfs\s+\[#{30}\] 100% 2000\/2000 jobs$/m);
  });

  it('prints JSON, reads a CSV workload and a profile file', async () => {
    const workload = join(dir, 'w.csv');
    await writeFile(workload, 'arrival,duration,cpu,tenant,deadline\n0,10s,1,acme,15s\n0,5s,1,acme,6s\n1s,1s,1,globex,\n');
    const profile = join(dir, 'p.yaml');
    await writeFile(profile, 'name: deadline-first\nplugins:\n  - edf\n');
    const { code, out } = await sim(
      '--workload',
      workload,
      '--ants',
      '1',
      '--ant-cpu',
      '1',
      '--profile',
      profile,
      '--profile',
      'fcfs',
      '--json',
      '--no-progress',
    );
    expect(code).toBe(0);
    const [edf, fcfs] = JSON.parse(out);
    expect(edf).toMatchObject({ profile: 'deadline-first', jobs: 3, completed: 3, deadlineMissRate: 0 });
    expect(fcfs).toMatchObject({ profile: 'fcfs', deadlineMissRate: 0.5 });
  });

  it('writes an HTML report whose charts are SVG drawn by vega-lite', async () => {
    const report = join(dir, 'r.html');
    const { code, err } = await sim(
      '--jobs',
      '300',
      '--ants',
      '3',
      '--profile',
      'fcfs',
      '--profile',
      'fair-drf',
      '--report',
      report,
      '--no-progress',
    );
    expect(code).toBe(0);
    expect(err).toContain(`wrote ${report}`);
    const html = await readFile(report, 'utf8');
    for (const title of ['Wait time CDF', 'Utilisation over time', 'Share of busy cpu per tenant over time', 'Ants over time'])
      expect(html).toContain(title);
    expect(html.match(/<svg /g)).toHaveLength(4);
    expect(html).toContain('fair-drf');
  });

  it('names the file, line and field of a bad profile, and refuses bad flags', async () => {
    const profile = join(dir, 'bad.yaml');
    await writeFile(profile, 'plugins:\n  - fair-share: { policy: fairest }\n');
    const bad = await sim('--profile', profile, '--jobs', '10');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/bad\.yaml:2:\d+: plugins\[0\]\.fair-share\.policy: /);
    expect((await sim('--profile', 'nope')).err).toMatch(/--profile 'nope' is neither a file nor a built-in profile/);
    expect((await sim('--load', 'lots')).code).toBe(2);
    const csv = join(dir, 'bad.csv');
    await writeFile(csv, 'arrival,duration,cpu\n0,soon,1\n');
    expect((await sim('--workload', csv)).err).toMatch(/bad\.csv:2:2: duration: 'soon' is not a duration/);
  });
});

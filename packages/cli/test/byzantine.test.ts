import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../src/index.js';
import { capture } from './support/capture.js';

async function run(...argv: string[]) {
  const { io, out, err } = capture();
  const code = await main(['byzantine', ...argv], io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('myrmex byzantine run', () => {
  it('prints each general, its role and decision, the message count, IC1 and IC2', async () => {
    const { code, out } = await run(
      'run',
      '--generals',
      '4',
      '--rounds',
      '1',
      '--traitors',
      '3',
      '--order',
      'ATTACK',
      '--strategy',
      'parity',
    );
    expect(code).toBe(0);
    expect(out).toMatch(/^OM\(1\) on the fast engine: 4 generals, traitors 3, order ATTACK, strategy parity/);
    expect(out).toMatch(/^0\s+commander\s+\(orders ATTACK\)$/m);
    expect(out).toMatch(/^1\s+lieutenant\s+ATTACK$/m);
    expect(out).toMatch(/^3\s+lieutenant \(traitor\)\s+ATTACK$/m);
    expect(out).toMatch(/^messages\s+9$/m);
    expect(out).toMatch(/^IC1\s+holds/m);
    expect(out).toMatch(/^IC2\s+holds/m);
  });

  it('--json prints exactly one object with the documented keys and loyal decisions only', async () => {
    const { code, out } = await run(
      'run',
      '--generals',
      '7',
      '--rounds',
      '2',
      '--traitors',
      '2,5',
      '--order',
      'ATTACK',
      '--strategy',
      'parity',
      '--json',
    );
    expect(code).toBe(0);
    expect(out.trim().split('\n')).toHaveLength(1);
    const parsed = JSON.parse(out);
    expect(Object.keys(parsed)).toEqual(['algorithm', 'generals', 'rounds', 'traitors', 'order', 'decisions', 'messages', 'ic1', 'ic2']);
    expect(parsed).toEqual({
      algorithm: 'om',
      generals: 7,
      rounds: 2,
      traitors: [2, 5],
      order: 'ATTACK',
      decisions: { 1: 'ATTACK', 3: 'ATTACK', 4: 'ATTACK', 6: 'ATTACK' },
      messages: 156,
      ic1: true,
      ic2: true,
    });
  });

  it('runs SM on the actor engine', async () => {
    const { code, out } = await run(
      'run',
      '--generals',
      '4',
      '--rounds',
      '1',
      '--traitors',
      '0',
      '--strategy',
      'parity',
      '--algorithm',
      'sm',
      '--engine',
      'actors',
      '--workers',
      '2',
      '--json',
    );
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({
      algorithm: 'sm',
      decisions: { 1: 'RETREAT', 2: 'RETREAT', 3: 'RETREAT' },
      ic1: true,
      ic2: true,
    });
  });

  it('refuses n <= 3m for OM, and with --unsafe shows the violation and exits 1', async () => {
    const refused = await run('run', '--generals', '3', '--rounds', '1', '--traitors', '2');
    expect(refused.code).toBe(2);
    expect(refused.err).toBe('myrmex: --generals: OM(1) needs more than 3m = 3 generals, got 3 (pass unsafe to run it anyway)');
    const unsafe = await run('run', '--generals', '3', '--rounds', '1', '--traitors', '2', '--strategy', 'flip', '--unsafe');
    expect(unsafe.code).toBe(1);
    expect(unsafe.out).toMatch(/^IC2\s+VIOLATED/m);
  });

  it('refuses more traitors than m, and with --unsafe runs it and reports the violation', async () => {
    const refused = await run('run', '--generals', '7', '--rounds', '2', '--traitors', '1,2,3');
    expect(refused.code).toBe(2);
    expect(refused.err).toBe('myrmex: --traitors: OM(2) tolerates at most m = 2 traitors, got 3 (pass unsafe to run it anyway)');
    const unsafe = await run('run', '--generals', '7', '--rounds', '2', '--traitors', '1,2,3', '--strategy', 'flip', '--unsafe');
    expect(unsafe.code).toBe(1);
    expect(unsafe.out).toMatch(/^IC2\s+VIOLATED/m);
  });

  it.each([
    [['--generals', '1'], 'myrmex: --generals: must be at least 2, got 1'],
    [['--generals', '4', '--traitors', '4'], 'myrmex: --traitors: general 4 is out of range 0..3'],
    [['--generals', '4', '--traitors', '1,x'], "myrmex: --traitors must be an integer, got 'x'"],
    [['--generals', '4', '--rounds', '-1'], 'myrmex: --rounds: must be at least 0, got -1'],
    [['--generals', 'four'], "myrmex: --generals must be an integer, got 'four'"],
    [['--generals', '4', '--strategy', 'sneaky'], "myrmex: --strategy must be one of honest, silent, flip, random, parity, got 'sneaky'"],
    [['--generals', '4', '--engine', 'gpu'], "myrmex: --engine must be one of fast, actors, got 'gpu'"],
  ])('exits 2 with one line for %j', async (args, message) => {
    const { code, err, out } = await run('run', ...args);
    expect(code).toBe(2);
    expect(err).toBe(message);
    expect(out).toBe('');
  });
});

describe('myrmex byzantine bench', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('prints a CSV row per case and engine and writes an SVG chart', async () => {
    dir = await mkdtemp(join(tmpdir(), 'byz-bench-'));
    const svg = join(dir, 'chart.svg');
    const { code, out, err } = await run(
      'bench',
      '--max-generals',
      '50',
      '--max-rounds',
      '2',
      '--engines',
      'fast',
      '--repeat',
      '1',
      '--no-process-runs',
      '--out',
      svg,
    );
    expect(code).toBe(0);
    const lines = out.trim().split('\n');
    expect(lines[0]).toBe('algorithm,engine,generals,rounds,traitors,messages,algorithm_ms,messages_per_s,process_ms,ic1,ic2');
    const rows = lines.slice(1).map((line) => line.split(','));
    expect(rows.map((r) => `${r[2]}/${r[3]}/${r[5]}`)).toEqual([
      '10/1/81',
      '50/1/2401',
      '7/2/156',
      '10/2/585',
      '20/2/6175',
      '30/2/22765',
      '50/2/112945',
    ]);
    expect(rows.every((r) => r[9] === 'true' && r[10] === 'true' && r[8] === '')).toBe(true);
    expect(err).toBe(`wrote ${svg}`);
    const chart = await readFile(svg, 'utf8');
    expect(chart).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(chart).toContain('m=1 fast algorithm: n=10');
    expect(chart).toContain('>m=1, OM(1)</text>');
    expect(chart).toContain('OM(2)');
    // One point per row in the time panel and one in the messages panel.
    expect(chart.match(/<circle /g)).toHaveLength(14);
  });

  it('measures the whole process separately, by running the binary', async () => {
    dir = await mkdtemp(join(tmpdir(), 'byz-bench-'));
    const { code, out } = await run(
      'bench',
      '--max-generals',
      '10',
      '--max-rounds',
      '1',
      '--engines',
      'fast',
      '--repeat',
      '1',
      '--out',
      join(dir, 'c.svg'),
    );
    expect(code).toBe(0);
    const [row] = out.trim().split('\n').slice(1);
    const cells = row!.split(',');
    expect(Number(cells[8])).toBeGreaterThan(Number(cells[6]));
  });

  it('refuses bad sizes with one line', async () => {
    const { code, err } = await run('bench', '--max-generals', '0');
    expect(code).toBe(2);
    expect(err).toBe('myrmex: --max-generals must be at least 1, got 0');
  });
});

describe('the installed binary', () => {
  it('runs byzantine run --json as a real process', async () => {
    const bin = fileURLToPath(new URL('../bin/myrmex.js', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [
      bin,
      'byzantine',
      'run',
      '--generals',
      '10',
      '--rounds',
      '3',
      '--traitors',
      '1,2,3',
      '--json',
    ]);
    expect(JSON.parse(stdout)).toMatchObject({ generals: 10, rounds: 3, messages: 3609, ic1: true, ic2: true });
  });
});

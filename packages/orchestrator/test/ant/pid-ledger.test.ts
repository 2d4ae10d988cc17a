import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PidLedger } from '@myrmex/orchestrator';
import { afterAll, describe, expect, it } from 'vitest';
import { isAlive, waitUntil } from '../executors/processes.js';

const dir = mkdtempSync(join(tmpdir(), 'myrmex-ledger-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A stand-in for an ant's process: starts a detached process group, notes it in the ledger, prints its pid.
const ANT = `
const { spawn } = require('node:child_process');
const { mkdirSync, writeFileSync } = require('node:fs');
const child = spawn('sh', ['-c', 'sleep 30 & wait'], { detached: true, stdio: 'ignore' });
mkdirSync(process.argv[1], { recursive: true });
writeFileSync(require('node:path').join(process.argv[1], process.pid + '.pids'), String(child.pid));
console.log(child.pid);
setInterval(() => {}, 1000);
`;

describe('PidLedger: the ant that ran a process cleans it up', () => {
  it('kills the process groups an ant killed with -9 left behind, and only those', async () => {
    const ant = spawn(process.execPath, ['-e', ANT, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const groupPid = await new Promise<number>((resolve) => ant.stdout!.once('data', (chunk: Buffer) => resolve(Number(chunk.toString()))));
    const ledger = new PidLedger(dir);
    // Its ant still runs: nothing is touched.
    expect(ledger.sweep()).toBe(0);
    expect(isAlive(groupPid)).toBe(true);
    const exited = new Promise((resolve) => ant.on('exit', resolve));
    ant.kill('SIGKILL');
    await exited;
    expect(isAlive(groupPid)).toBe(true);
    expect(ledger.sweep()).toBe(1);
    expect(await waitUntil(() => !isAlive(groupPid))).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('forgets a process once it ended, so a reused pid is never signalled', () => {
    const ledger = new PidLedger(dir);
    ledger.add(123456);
    expect(readdirSync(dir)).toEqual([`${process.pid}.pids`]);
    ledger.remove(123456);
    expect(readdirSync(dir)).toEqual([]);
  });
});

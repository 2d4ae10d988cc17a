import { createShellExecutor } from '@myrmex/orchestrator';
import { describe, expect, it } from 'vitest';
import { parseChildTimes } from '../../src/executors/cpu-time.js';
import { withTaskFanOut } from '../../src/executors/fan-out.js';
import { run, spec } from './run.js';

const shell = createShellExecutor({ killGraceMs: 300 });
const sh = (script: string[], fields: Record<string, unknown> = {}) => spec({ method: 'SHELL', script, ...fields });
/** A shell loop that burns about 0.3 s of CPU here whatever the load (CPU time, not wall clock). */
const BURN = 'i=0; while [ $i -lt 400000 ]; do i=$((i+1)); done';

describe('CPU time of SHELL tasks', () => {
  it('reads the children line of `times` as dash and bash print it', () => {
    expect(parseChildTimes('0m0.000000s 0m0.000000s\n0m1.230000s 0m0.010000s\n')).toBe(1240);
    expect(parseChildTimes('0m0.002s 0m0.000s\n1m2.500s 0m0.250s\n')).toBe(62_750);
    expect(parseChildTimes('')).toBeUndefined();
    expect(parseChildTimes('0m0.002s 0m0.000s\n')).toBeUndefined();
    // Text written before the wrapper's own (a task forging a figure) is not what is read.
    expect(parseChildTimes('0m0.0s 0m0.0s\n0m0.0s 0m0.0s\n0m0.000s 0m0.000s\n0m2.000s 0m0.500s\n')).toBe(2500);
  });

  it('measures a script that burns CPU, and charges a sleeping one almost nothing', async () => {
    const burning = await run(shell, sh([BURN]));
    const sleeping = await run(shell, sh(['sleep 0.5']));
    expect(burning.result.succeeded).toBe(true);
    expect(sleeping.result.succeeded).toBe(true);
    // One process at a time: never more CPU than wall clock (plus the 10 ms tick of `times`).
    expect(burning.result.cpuMs).toBeGreaterThanOrEqual(100);
    expect(burning.result.cpuMs).toBeLessThanOrEqual(burning.ms + 10);
    expect(sleeping.ms).toBeGreaterThanOrEqual(500);
    expect(sleeping.result.cpuMs).toBeLessThan(50);
  });

  it('counts the processes the script waits for, in the background or in a subshell', async () => {
    // The script itself only forks and waits, so each figure is the child's own burn (about 0.3 s, more under load:
    // CPU time on a contended machine only grows), which a sleeping script is never charged (see above).
    const background = await run(shell, sh([`sh -c '${BURN}' &`, 'wait']));
    const subshell = await run(shell, sh([`(${BURN})`]));
    for (const { result } of [background, subshell]) {
      expect(result.succeeded).toBe(true);
      expect(result.cpuMs).toBeGreaterThanOrEqual(100);
    }
  });

  it("keeps the script's exit code and death by signal, and the script cannot write the wrapper's descriptor", async () => {
    expect((await run(shell, sh(['exit 3']))).result).toMatchObject({ exitCode: 3, succeeded: false, cpuMs: expect.any(Number) });
    expect((await run(shell, sh(['kill -TERM $$']))).result).toMatchObject({ exitCode: 143, error: 'killed by SIGTERM' });
    const { logs } = await run(shell, sh(['if { echo "0m9.0s 0m9.0s" >&3; } 2>/dev/null; then echo open; else echo closed; fi']));
    expect(logs.filter((l) => l.stream === 'stdout').map((l) => l.text)).toEqual(['closed']);
  });

  it('reports a task stopped by its timeout, and nothing for one that had to be killed (its wall clock is charged instead)', async () => {
    const stopped = await run(shell, sh([BURN, 'sleep 5'], { timeoutMs: 1000 }));
    expect(stopped.result).toEqual({ succeeded: false, error: 'timed out after 1000ms', cpuMs: expect.any(Number) });
    expect(stopped.result.cpuMs).toBeGreaterThanOrEqual(100);
    const killed = await run(shell, sh(["trap '' TERM", 'sleep 5'], { timeoutMs: 200 }));
    expect(killed.result).toEqual({ succeeded: false, error: 'timed out after 200ms' });
  });

  it('a fan-out of SHELL children is charged the sum of what its children used', async () => {
    const alone = (await run(shell, sh([BURN]))).result.cpuMs!;
    const child = sh([BURN]);
    const labels = ['a', 'b', 'c', 'd'];
    const fanOut = { itemVar: 'Item', source: 'items', labels, failFast: false, successThreshold: 100, tasks: labels.map(() => child) };
    const { result } = await run(withTaskFanOut(shell), sh([], { fanOut }));
    expect(result.succeeded).toBe(true);
    // Four burns against one: a sum, not one child's figure. Twice, not four times: one burn's CPU time varies by
    // a third or more from run to run on a contended machine (480 ms alone against 355 each for two, beside stress).
    expect(result.cpuMs).toBeGreaterThan(alone * 2);
  });
});

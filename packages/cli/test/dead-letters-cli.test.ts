import type { Queen } from '@myrmex/orchestrator';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/index.js';
import { capture } from './support/capture.js';
import { ended, servedQueen } from './support/served-queen.js';

/** `myrmex dead-letters` and `myrmex redrive` in-process against a real queen and API on loopback. */
describe('myrmex dead-letters and redrive', () => {
  const served = servedQueen('myrmex-cli-dead-');
  let queen: Queen;
  let url: string;

  beforeAll(async () => {
    ({ queen, url } = served.current);
  });

  it('lists a job whose retries are used up; a redrive runs it again on the fixed version, once, linked both ways', async () => {
    await queen.applyDefinition(`job_type: flaky-export
retry: 1
tasks:
- task_type: export
  method: SHELL
  script: ['echo exporting {{.Table}}', 'exit 4']
`);
    const { id } = await queen.submit({ jobType: 'flaky-export', params: { Table: 'orders' } });
    const failed = await ended(queen, id);
    expect(failed).toMatchObject({ state: 'FAILED', retry: 1 });

    const list = capture();
    expect(await main(['dead-letters', '--server', url], list.io)).toBe(0);
    expect(list.out.join('\n')).toMatch(new RegExp(`^${id} flaky-export v1 FAILED \\(.*exit code 4.*\\)$`, 'm'));

    // The fix, then the redrive: the new job runs the latest version with the same params.
    await queen.applyDefinition(`job_type: flaky-export
retry: 1
tasks:
- task_type: export
  method: SHELL
  script: ['echo exporting {{.Table}}']
`);
    const redrive = capture();
    expect(await main(['redrive', id, '--server', url, '--json'], redrive.io)).toBe(0);
    const { original, job } = JSON.parse(redrive.out.join('')) as { original: { id: string }; job: { id: string; version: number } };
    expect(original.id).toBe(id);
    expect(job.version).toBe(2);
    const rerun = await ended(queen, job.id);
    expect(rerun).toMatchObject({ state: 'COMPLETED', params: { Table: 'orders' } });
    expect((await queen.logs(job.id, { taskType: '@job' })).map((l) => l.text)).toEqual([`redrive of dead letter ${id}`]);
    expect((await queen.logs(id, { taskType: '@job' })).map((l) => l.text)).toEqual([`redriven as job ${job.id} (version 2)`]);

    const after = capture();
    expect(await main(['dead-letters', '--server', url, '--json'], after.io)).toBe(0);
    expect(JSON.parse(after.out.join(''))).toMatchObject({ items: [{ id, redriven_as: job.id }] });

    const again = capture();
    expect(await main(['redrive', id, '--server', url], again.io)).not.toBe(0);
    expect(again.err.join('\n')).toContain(`job ${id} was already redriven as job ${job.id}`);
    const notDead = capture();
    expect(await main(['redrive', job.id, '--server', url], notDead.io)).not.toBe(0);
    expect(notDead.err.join('\n')).toContain('is COMPLETED: only a FAILED job (its retries used up) is a dead letter to redrive');
    expect((await queen.listJobs({ limit: 10 })).items).toHaveLength(2);
  }, 60_000);
});

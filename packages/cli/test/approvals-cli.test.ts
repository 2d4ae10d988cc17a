import { type Queen, TERMINAL_JOB_STATES } from '@myrmex/orchestrator';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/index.js';
import { capture } from './support/capture.js';
import { servedQueen } from './support/served-queen.js';

/** `myrmex approve|reject|approvals` in-process against a real queen and API on loopback. */
describe('myrmex approve, reject and approvals', () => {
  const served = servedQueen('myrmex-cli-approvals-');
  let queen: Queen;
  let url: string;

  beforeAll(async () => {
    ({ queen, url } = served.current);
    await queen.applyDefinition(`job_type: cli-gate
tasks:
- task_type: gate
  method: MANUAL
  approval_policy: { min_approvals: 2, sla_deadline: 1h }
  on_exit_code: { APPROVED: ship, REJECTED: stop }
- task_type: ship
  method: SHELL
  script: ['true']
- task_type: stop
  method: SHELL
  script: ['true']
`);
  });

  const waitFor = async (id: string, ok: (state: string) => boolean) => {
    for (;;) {
      const job = await queen.getJob(id);
      if (job && ok(job.state)) return job;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  it('votes with comments, lists the approval, and the second vote decides', async () => {
    const { id } = await queen.submit({ jobType: 'cli-gate' });
    for (;;) {
      if ((await queen.approvals(id))[0]?.waiting) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const first = capture();
    expect(await main(['approve', id, 'gate', '--comment', 'tests pass', '--as', 'alice', '--server', url], first.io)).toBe(0);
    expect(first.out.join('\n')).toMatch(
      /^gate {2}WAITING {2}\(2 approvals; due .* then AUTO_REJECT\) {2}votes: alice APPROVED "tests pass"$/,
    );

    const list = capture();
    expect(await main(['approvals', id, '--server', url, '--json'], list.io)).toBe(0);
    expect(JSON.parse(list.out.join(''))).toMatchObject([{ task_type: 'gate', waiting: true, votes: [{ approver: 'alice' }] }]);

    const again = capture();
    expect(await main(['approve', id, 'gate', '--as', 'alice', '--server', url], again.io)).not.toBe(0);
    expect(again.err.join('\n')).toContain('alice has already voted');

    const second = capture();
    expect(await main(['approve', id, 'gate', '-m', 'ok', '--as', 'bob', '--server', url], second.io)).toBe(0);
    expect(second.out.join('\n')).toContain('APPROVED by alice, bob (alice: tests pass; bob: ok)');
    const job = await waitFor(id, (state) => TERMINAL_JOB_STATES.includes(state as never));
    expect(job.tasks.map((t) => [t.taskType, t.state])).toEqual([
      ['gate', 'COMPLETED'],
      ['ship', 'COMPLETED'],
      ['stop', 'SKIPPED'],
    ]);
  });

  it('rejects, and names a task that is not MANUAL', async () => {
    const { id } = await queen.submit({ jobType: 'cli-gate' });
    await waitFor(id, (state) => state === 'READY');
    const wrong = capture();
    expect(await main(['reject', id, 'ship', '--server', url], wrong.io)).not.toBe(0);
    expect(wrong.err.join('\n')).toContain(
      'task ship is a SHELL task: only MANUAL tasks, and tasks a WAIT_FOR_APPROVAL route holds, are approved or rejected',
    );
    // Admission made the job READY and the gate waiting in one commit.
    for (const who of ['carol', 'dave']) expect(await main(['reject', id, 'gate', '--as', who, '--server', url], capture().io)).toBe(0);
    const job = await waitFor(id, (state) => TERMINAL_JOB_STATES.includes(state as never));
    expect(job.tasks.find((t) => t.taskType === 'stop')?.state).toBe('COMPLETED');
  });
});

import { PostgresStore, Queen, QueenError } from '@myrmex/orchestrator';
import { postgres } from '@myrmex/test-utils';
import { describe, expect, it } from 'vitest';
import { tally } from '../../src/engine/approvals.js';
import { finished, source, startQueen, taskStates, until } from '../queen/helpers.js';

/** A MANUAL gate between two TEST tasks; `extra` goes into the gate (approval_policy, on_exit_code). */
const gated = (jobType: string, gate: Record<string, unknown>) =>
  source(jobType, [
    { task_type: 'build', script: ['log built'], on_completed: 'gate' },
    { task_type: 'gate', method: 'MANUAL', on_exit_code: { APPROVED: 'deploy', REJECTED: 'abort' }, ...gate },
    { task_type: 'deploy', script: ['log deployed'] },
    { task_type: 'abort', script: ['log aborted'] },
  ]);

const waiting = (queen: Queen, jobId: string) =>
  until(async () => (await queen.approvals(jobId)).find((a) => a.taskType === 'gate' && a.waiting));

const vote = (
  queen: Queen,
  jobId: string,
  approver: string,
  decision: 'APPROVED' | 'REJECTED',
  extra: { comment?: string; roles?: string[] } = {},
) =>
  queen.decideTask(jobId, 'gate', { approver, decision, roles: extra.roles ?? [], ...(extra.comment ? { comment: extra.comment } : {}) });

describe('approval policies (pure)', () => {
  const v = (approver: string, decision: 'APPROVED' | 'REJECTED') => ({ approver, decision });
  it('any-of: min_approvals approvals approve; as many rejections reject when anyone may vote', () => {
    expect(tally(undefined, [v('a', 'APPROVED')])).toBe('APPROVED');
    expect(tally(undefined, [v('a', 'REJECTED')])).toBe('REJECTED');
    expect(tally({ min_approvals: 2 }, [v('a', 'APPROVED'), v('b', 'REJECTED')])).toBeUndefined();
    expect(tally({ min_approvals: 2 }, [v('a', 'APPROVED'), v('b', 'APPROVED')])).toBe('APPROVED');
    expect(tally({ min_approvals: 2 }, [v('a', 'REJECTED'), v('b', 'REJECTED')])).toBe('REJECTED');
  });
  it('any-of over named approvers: rejected once the rest cannot reach min_approvals', () => {
    const policy = { min_approvals: 2, required_approvers: ['a', 'b', 'c'] };
    expect(tally(policy, [v('a', 'REJECTED')])).toBeUndefined();
    expect(tally(policy, [v('a', 'REJECTED'), v('b', 'REJECTED')])).toBe('REJECTED');
  });
  it('unanimous: one rejection rejects; every named approver must approve', () => {
    const policy = { require_unanimous: true, required_approvers: ['a', 'b'] };
    expect(tally(policy, [v('a', 'APPROVED')])).toBeUndefined();
    expect(tally(policy, [v('a', 'APPROVED'), v('b', 'APPROVED')])).toBe('APPROVED');
    expect(tally(policy, [v('a', 'APPROVED'), v('b', 'REJECTED')])).toBe('REJECTED');
    expect(tally({ require_unanimous: true, min_approvals: 3 }, [v('a', 'APPROVED'), v('b', 'APPROVED')])).toBeUndefined();
  });
});

describe('MANUAL tasks on SQLite', () => {
  it('wait without an ant until approved, then route via APPROVED; the decision is in the timeline with who and why', async () => {
    const queen = await startQueen();
    await queen.applyDefinition(gated('gated', {}));
    const { id } = await queen.submit({ jobType: 'gated' });
    const status = await waiting(queen, id);
    expect(status).toMatchObject({ state: 'READY', votes: [], policy: { minApprovals: 1, timeoutAction: 'AUTO_REJECT' } });
    expect(status.dueAt).toBeUndefined();
    const decided = await vote(queen, id, 'alice', 'APPROVED', { comment: 'ship it' });
    expect(decided).toMatchObject({ waiting: false, decision: 'APPROVED', state: 'COMPLETED' });
    const job = await finished(queen, id);
    expect(job.state).toBe('COMPLETED');
    expect(taskStates(job)).toMatchObject({ build: 'COMPLETED', gate: 'COMPLETED', deploy: 'COMPLETED', abort: 'SKIPPED' });
    // No ant ran it: no attempt.
    expect(job.tasks.find((t) => t.taskType === 'gate')!.attempts).toEqual([]);
    const event = job.timeline.find((e) => e.taskType === 'gate' && e.to === 'COMPLETED');
    expect(event?.reason).toBe('APPROVED by alice (alice: ship it)');
    expect((await queen.logs(id, { taskType: 'gate' })).map((l) => l.text)).toEqual(['alice voted APPROVED: ship it']);
  });

  it('REJECTED routes to its task; without a route a rejection fails the job, and a restart opens a new round', async () => {
    const queen = await startQueen();
    await queen.applyDefinition(gated('routed', {}));
    const routed = await queen.submit({ jobType: 'routed' });
    await waiting(queen, routed.id);
    await vote(queen, routed.id, 'bob', 'REJECTED', { comment: 'not today' });
    const done = await finished(queen, routed.id);
    expect(done.state).toBe('COMPLETED');
    expect(taskStates(done)).toMatchObject({ gate: 'COMPLETED', deploy: 'SKIPPED', abort: 'COMPLETED' });

    await queen.applyDefinition(
      source('plain', [
        { task_type: 'gate', method: 'MANUAL', approval_policy: { min_approvals: 2 }, on_completed: 'after' },
        { task_type: 'after', script: ['log after'] },
      ]),
    );
    const plain = await queen.submit({ jobType: 'plain' });
    await waiting(queen, plain.id);
    // A job that has not started because its first task waits for people says so, not that it waits for an ant.
    expect(await queen.schedulingStatus(plain.id)).toMatchObject({
      waiting: true,
      reason: 'waiting for approval of gate',
      heldBy: 'approval',
    });
    expect((await vote(queen, plain.id, 'a', 'REJECTED')).waiting).toBe(true);
    await expect(vote(queen, plain.id, 'a', 'APPROVED')).rejects.toThrow(/a has already voted/);
    await vote(queen, plain.id, 'b', 'REJECTED');
    const failed = await finished(queen, plain.id);
    expect(failed.state).toBe('FAILED');
    expect(failed.reason).toContain('task gate failed: REJECTED by a, b');
    await queen.restart(plain.id);
    const again = await waiting(queen, plain.id);
    expect(again.votes).toEqual([]);
    await vote(queen, plain.id, 'a', 'APPROVED');
    expect((await vote(queen, plain.id, 'c', 'APPROVED')).decision).toBe('APPROVED');
    expect((await finished(queen, plain.id)).state).toBe('COMPLETED');
  });

  it('refuses votes it cannot take, naming why', async () => {
    const queen = await startQueen();
    await queen.applyDefinition(
      gated('strict', { approval_policy: { required_approvers: ['carol'], required_roles: ['release'], require_unanimous: true } }),
    );
    const { id } = await queen.submit({ jobType: 'strict' });
    await waiting(queen, id);
    const refused = await vote(queen, id, 'mallory', 'APPROVED').catch((e: QueenError) => e);
    expect(refused).toBeInstanceOf(QueenError);
    expect(refused).toMatchObject({
      code: 'forbidden',
      message: expect.stringContaining('one of the approvers carol or a holder of the role release'),
    });
    await expect(queen.decideTask(id, 'build', { approver: 'carol', decision: 'APPROVED', roles: [] })).rejects.toThrow(
      /task build is a TEST task: only MANUAL tasks/,
    );
    await expect(queen.decideTask(id, 'nope', { approver: 'carol', decision: 'APPROVED', roles: [] })).rejects.toThrow(/has no task nope/);
    await expect(queen.decideTask(id, 'gate', { approver: ' ', decision: 'APPROVED', roles: [] })).rejects.toThrow(/approver must be/);
    await expect(queen.decideTask(id, 'gate', { approver: 'carol', decision: 'MAYBE' as 'APPROVED', roles: [] })).rejects.toThrow(
      /decision must be APPROVED or REJECTED/,
    );
    // A role holder counts; unanimity needs the named approver too.
    expect((await vote(queen, id, 'dave', 'APPROVED', { roles: ['release'] })).waiting).toBe(true);
    expect((await vote(queen, id, 'carol', 'APPROVED')).decision).toBe('APPROVED');
    await expect(vote(queen, id, 'erin', 'REJECTED', { roles: ['release'] })).rejects.toThrow(
      /not waiting for a decision: it is COMPLETED/,
    );
  });

  it('acts on a lapsed SLA from the store: AUTO_APPROVE, AUTO_REJECT, and ESCALATE keeps it waiting', async () => {
    const queen = await startQueen();
    await queen.applyDefinition(gated('auto-approve', { approval_policy: { sla_deadline: '1s', timeout_action: 'AUTO_APPROVE' } }));
    await queen.applyDefinition(gated('auto-reject', { approval_policy: { sla_deadline: 1 } }));
    await queen.applyDefinition(
      gated('escalate', {
        approval_policy: {
          sla_deadline: '1s',
          timeout_action: 'ESCALATE',
          escalation_recipients: 'oncall@example.com',
          escalation_message: 'late',
        },
      }),
    );
    const [approve, reject, escalate] = await Promise.all(
      ['auto-approve', 'auto-reject', 'escalate'].map((jobType) => queen.submit({ jobType })),
    );
    const waits = await waiting(queen, approve!.id);
    expect(waits.dueAt!.getTime()).toBeGreaterThan(Date.now() - 1000);
    const approved = await finished(queen, approve!.id);
    expect(taskStates(approved)).toMatchObject({ gate: 'COMPLETED', deploy: 'COMPLETED', abort: 'SKIPPED' });
    expect(approved.timeline.find((e) => e.taskType === 'gate' && e.to === 'COMPLETED')?.reason).toBe(
      'APPROVED: the SLA of 1s passed (AUTO_APPROVE)',
    );
    const rejected = await finished(queen, reject!.id);
    expect(taskStates(rejected)).toMatchObject({ deploy: 'SKIPPED', abort: 'COMPLETED' });
    const escalated = await until(async () => {
      const status = (await queen.approvals(escalate!.id))[0]!;
      return status.reason?.includes('escalated') ? status : undefined;
    });
    expect(escalated).toMatchObject({
      waiting: true,
      reason: 'waiting for approval (the SLA of 1s passed; escalated to oncall@example.com)',
    });
    expect(escalated.dueAt).toBeUndefined();
    expect((await queen.logs(escalate!.id, { taskType: 'gate' })).map((l) => l.text)).toEqual(['escalated to oncall@example.com: late']);
    await vote(queen, escalate!.id, 'late-approver', 'APPROVED');
    expect((await finished(queen, escalate!.id)).state).toBe('COMPLETED');
  });

  it('a cancelled or timed-out job leaves nothing waiting', async () => {
    const queen = await startQueen();
    await queen.applyDefinition(gated('cancelled', {}));
    const { id } = await queen.submit({ jobType: 'cancelled' });
    await waiting(queen, id);
    await queen.cancel(id);
    expect(taskStates(await finished(queen, id))).toMatchObject({ gate: 'CANCELLED' });
    await expect(vote(queen, id, 'alice', 'APPROVED')).rejects.toThrow(/job .* is CANCELLED: nothing waits for a decision/);

    await queen.applyDefinition(source('timed', [{ task_type: 'gate', method: 'MANUAL' }], { timeout: '1s' }));
    const timed = await queen.submit({ jobType: 'timed' });
    await until(async () => (await queen.approvals(timed.id))[0]?.waiting);
    // The job's deadline starts with its first task: a waiting gate does not start one.
    await queen.decideTask(timed.id, 'gate', { approver: 'alice', decision: 'APPROVED', roles: [] });
    expect((await finished(queen, timed.id)).state).toBe('COMPLETED');
  });
});

const gate = await postgres();

gate.describe('MANUAL tasks on PostgreSQL with two queens', () => {
  it('racing approvers and queens decide once; an SLA lapse is acted on by a queen that did not start the wait', async () => {
    const db = await gate.freshDatabase();
    const first = await Queen.open({ store: PostgresStore.open({ url: db.url }), ant: { capacity: 2 }, pollIntervalMs: 50 });
    const second = await Queen.open({ store: PostgresStore.open({ url: db.url }), ant: { capacity: 2 }, pollIntervalMs: 50 });
    try {
      await first.start();
      await second.start();
      await first.applyDefinition(
        source('raced', [
          { task_type: 'gate', method: 'MANUAL', approval_policy: { min_approvals: 2 }, on_exit_code: { APPROVED: 'yes', REJECTED: 'no' } },
          { task_type: 'yes', method: 'SHELL', script: ['true'] },
          { task_type: 'no', method: 'SHELL', script: ['true'] },
        ]),
      );
      for (let round = 0; round < 5; round++) {
        const { id } = await first.submit({ jobType: 'raced' });
        await until(async () => (await first.approvals(id))[0]?.waiting);
        // Eight approvers at once, half through each queen, split between the two decisions.
        const votes = await Promise.allSettled(
          Array.from({ length: 8 }, (_, i) =>
            (i % 2 === 0 ? first : second).decideTask(id, 'gate', {
              approver: `user${i}`,
              decision: i % 3 === 0 ? 'REJECTED' : 'APPROVED',
              roles: [],
            }),
          ),
        );
        expect(votes.filter((v) => v.status === 'fulfilled').length).toBeGreaterThanOrEqual(2);
        for (const v of votes) if (v.status === 'rejected') expect(String(v.reason)).toMatch(/not waiting for a decision/);
        const job = await finished(first, id);
        expect(job.state).toBe('COMPLETED');
        const decisions = job.timeline.filter((e) => e.taskType === 'gate' && e.from === 'READY');
        expect(decisions).toHaveLength(1);
        const ran = job.tasks.filter((t) => (t.taskType === 'yes' || t.taskType === 'no') && t.state === 'COMPLETED');
        expect(ran).toHaveLength(1);
        expect(decisions[0]!.reason).toMatch(ran[0]!.taskType === 'yes' ? /^APPROVED by user\d, user\d/ : /^REJECTED by user\d, user\d/);
      }

      await first.applyDefinition(
        source('lapsing', [
          { task_type: 'gate', method: 'MANUAL', approval_policy: { sla_deadline: '1s', timeout_action: 'AUTO_REJECT' } },
        ]),
      );
      const { id } = await first.submit({ jobType: 'lapsing' });
      await until(async () => (await first.approvals(id))[0]?.waiting);
      // The queen whose plan started the wait stops: the other one's sweep must act on the lapse.
      await first.stop();
      const job = await finished(second, id);
      expect(job.state).toBe('FAILED');
      expect(job.timeline.filter((e) => e.taskType === 'gate' && e.from === 'READY')).toEqual([
        expect.objectContaining({ to: 'FAILED', reason: 'REJECTED: the SLA of 1s passed (AUTO_REJECT)' }),
      ]);
    } finally {
      await first.stop();
      await second.stop();
      await db.dispose();
    }
  }, 60_000);
});

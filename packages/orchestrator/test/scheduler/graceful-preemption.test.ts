import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseProfile } from '@myrmex/scheduling';
import { afterEach, describe, expect, it } from 'vitest';
import { frameworkPolicy } from '../../src/scheduler/index.js';
import { startQueen, until } from '../queen/helpers.js';

const GRACE_MS = 1500;
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A queen with one slot, preempting by priority with a grace; the victim's script is given. */
async function preemptOne(victimScript: (dir: string) => readonly string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'myrmex-grace-'));
  dirs.push(dir);
  const policy = frameworkPolicy(parseProfile(`name: graceful\nplugins:\n  - priority\n  - preemption: { grace: ${GRACE_MS}ms }\n`));
  // The ant's own kill grace is short: a longer wait can only come from the preemption's grace.
  const queen = await startQueen({ ant: { capacity: 1 }, policy, shell: { killGraceMs: 100 } });
  const gate = join(dir, 'gate');
  const script = [...victimScript(dir), `while [ ! -f ${gate} ]; do sleep 0.05; done`].map((line) => `      - ${JSON.stringify(line)}`);
  await queen.applyDefinition(`job_type: batch\ntasks:\n  - task_type: work\n    script:\n${script.join('\n')}\n`);
  await queen.applyDefinition('job_type: urgent\ntasks:\n  - task_type: run\n    script: ["true"]\n');
  const low = await queen.submit({ jobType: 'batch', priority: 1 });
  await until(async () => ((await queen.logs(low.id)).some((l) => l.text === 'working') ? true : undefined));
  const high = await queen.submit({ jobType: 'urgent', priority: 90 });
  await until(async () => ((await queen.getJob(high.id))?.state === 'COMPLETED' ? true : undefined), 30_000);
  const victim = await until(async () => {
    const job = await queen.getJob(low.id);
    return (job?.tasks[0]?.attempts.length ?? 0) >= 2 ? job : undefined;
  }, 30_000);
  return { queen, dir, gate, low, victim: victim! };
}

describe('graceful preemption (issue 13)', () => {
  it('signals the victim, lets it clean up within the grace, and re-queues it with the reason', async () => {
    const { queen, dir, gate, low, victim } = await preemptOne((dir) => [
      `trap 'echo "got TERM"; echo done > ${join(dir, 'cleaned')}; exit 143' TERM`,
      'echo working',
    ]);
    const first = victim.tasks[0]!.attempts[0]!;
    expect(first.reason).toMatch(new RegExp(`^preempted: preempted by job .* \\(priority 90\\); grace ${GRACE_MS} ms$`));
    expect(existsSync(join(dir, 'cleaned'))).toBe(true);
    const lines = (await queen.logs(low.id, { taskType: 'work' })).filter((l) => l.attempt === first.attempt).map((l) => l.text);
    expect(lines).toContain('got TERM');
    // Re-queued at once and run again: the timeline shows the task back in READY with the preemption's reason.
    const timeline = (await queen.getJob(low.id))!.timeline;
    expect(timeline.some((e) => e.taskType === 'work' && e.to === 'READY' && e.reason?.startsWith('preempted: '))).toBe(true);
    writeFileSync(gate, '');
    const done = await until(async () => {
      const job = await queen.getJob(low.id);
      return job?.state === 'COMPLETED' ? job : undefined;
    }, 30_000);
    expect(done.retry).toBe(0);
  });

  it('kills a victim that ignores the signal once the grace is over, not before', async () => {
    const { queen, gate, low, victim } = await preemptOne(() => ["trap '' TERM", 'echo working']);
    const first = victim.tasks[0]!.attempts[0]!;
    const lines = (await queen.logs(low.id, { taskType: 'work' })).filter((l) => l.attempt === first.attempt);
    const signalled = lines.find((l) => l.text.startsWith('stopping process group'))!;
    expect(signalled.text).toMatch(/preempted by job/);
    expect(first.endedAt!.getTime() - signalled.at.getTime()).toBeGreaterThanOrEqual(GRACE_MS - 50);
    writeFileSync(gate, '');
  });
});

import type { Snapshot } from './snapshot.js';

const STATES = ['PENDING', 'READY', 'EXECUTING', 'PAUSED', 'COMPLETED', 'FAILED', 'CANCELLED'];
/** An ant silent this long is shown LOST (the queen's /readyz and metrics use the same default). */
const LOST_AFTER_MS = 30_000;

const fit = (text: string, width: number) => (text.length > width ? `${text.slice(0, Math.max(0, width - 1))}…` : text.padEnd(width));

function seconds(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  return s < 60 ? `${s.toFixed(1)}s` : `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
}

function bar(used: number, total: number, width: number): string {
  const filled = total === 0 ? 0 : Math.round((Math.min(used, total) / total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

/** One frame of `myrmex top` as plain lines of at most `width` columns, `rows` lines at most. */
export function renderTop(snapshot: Snapshot, width = 100, rows = 40): string[] {
  const now = snapshot.at.getTime();
  const lines: string[] = [];
  lines.push(fit(`myrmex top  ${snapshot.server}  ${snapshot.at.toISOString().slice(11, 19)} UTC   (q quits)`, width));
  lines.push(fit(STATES.map((state) => `${state} ${snapshot.jobs[state] ?? 0}`).join('  '), width));
  lines.push('');
  const waiting = snapshot.queue.filter((q) => q.kind === 'task').reduce((n, q) => n + q.count, 0);
  lines.push(fit(`QUEUE  ${waiting} task(s) waiting, oldest ${seconds(snapshot.oldestWaitSeconds * 1000)}`, width));
  lines.push(fit(`  ${'KIND'.padEnd(6)}${'PRIO'.padEnd(6)}${'TAG'.padEnd(20)}WAITING`, width));
  for (const q of snapshot.queue.slice(0, 6))
    lines.push(fit(`  ${q.kind.padEnd(6)}${q.priority.padEnd(6)}${(q.tag || '-').padEnd(20)}${q.count}`, width));
  if (snapshot.queue.length === 0) lines.push('  nothing waiting');
  lines.push('');
  lines.push(fit(`RUNNING  ${snapshot.running.length} task(s)`, width));
  lines.push(fit(`  ${'JOB'.padEnd(10)}${'TYPE'.padEnd(18)}${'TASK'.padEnd(18)}${'TRY'.padEnd(5)}${'ANT'.padEnd(22)}FOR`, width));
  const antRows = Math.min(snapshot.ants.length, 8) + 4;
  const room = Math.max(1, rows - lines.length - antRows);
  for (const task of snapshot.running.slice(0, room)) {
    lines.push(
      fit(
        `  ${task.jobId.slice(0, 8).padEnd(10)}${fit(task.jobType, 17)} ${fit(task.task, 17)} ${String(task.attempt).padEnd(5)}${fit(task.ant ?? '-', 21)} ${seconds(now - Date.parse(task.startedAt))}`,
        width,
      ),
    );
  }
  if (snapshot.running.length > room) lines.push(`  … ${snapshot.running.length - room} more`);
  if (snapshot.running.length === 0) lines.push('  nothing running');
  lines.push('');
  lines.push(fit(`ANTS  ${snapshot.ants.length}`, width));
  for (const ant of snapshot.ants.slice(0, 8)) {
    const lost = now - Date.parse(ant.lastSeenAt) > LOST_AFTER_MS;
    lines.push(
      fit(
        `  ${fit(ant.id, 24)} ${lost ? 'LOST' : 'LIVE'}  ${bar(ant.running, ant.capacity, 10)} ${ant.running}/${ant.capacity}  seen ${seconds(now - Date.parse(ant.lastSeenAt))} ago${ant.tags.length ? `  tags ${ant.tags.join(',')}` : ''}`,
        width,
      ),
    );
  }
  if (snapshot.ants.length === 0) lines.push('  no ant connected: tasks cannot run');
  return lines.slice(0, rows);
}

import type { Summary } from '@myrmex/scheduling';

const seconds = (ms: number) => (ms / 1_000).toFixed(1);
const percent = (x: number) => `${(100 * x).toFixed(1)}%`;

/** The metrics a profile is judged by, one row each. */
const ROWS: [string, (s: Summary) => string][] = [
  ['jobs done / given up', (s) => `${s.completed} / ${s.gaveUp}`],
  ['wait mean (s)', (s) => seconds(s.wait.mean)],
  ['wait p50 (s)', (s) => seconds(s.wait.p50)],
  ['wait p99 (s)', (s) => seconds(s.wait.p99)],
  ['wait max (s)', (s) => seconds(s.wait.max)],
  ['turnaround mean (s)', (s) => seconds(s.turnaround.mean)],
  ['turnaround p99 (s)', (s) => seconds(s.turnaround.p99)],
  ['slowdown mean', (s) => s.slowdown.toFixed(2)],
  ['utilisation', (s) => percent(s.utilisation)],
  ['fragmentation', (s) => percent(s.fragmentation)],
  ["Jain's index (tenants)", (s) => s.jain.toFixed(3)],
  ['deadline miss rate', (s) => percent(s.deadlineMissRate)],
  ['starvation: longest wait (s)', (s) => seconds(s.starvation)],
  ['preemptions', (s) => String(s.preemptions)],
  ['speculative launches', (s) => String(s.speculativeLaunches)],
  ['wasted work (cpu s)', (s) => s.wastedCpuSeconds.toFixed(0)],
  ['wait estimate error mean (s)', (s) => seconds(s.estimateError.mean)],
  ['scheduling passes', (s) => String(s.passes)],
];

/** Profiles side by side: one column each. */
export function formatTable(summaries: readonly Summary[]): string {
  const header = ['metric', ...summaries.map((s) => s.profile)];
  const body = ROWS.map(([name, cell]) => [name, ...summaries.map(cell)]);
  const widths = header.map((_, c) => Math.max(...[header, ...body].map((row) => row[c]!.length)));
  const line = (row: string[]) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  return [line(header), ...body.map(line)].join('\n');
}

import type { TimelineEventWire } from '@myrmex/orchestrator';

const SYMBOLS: Record<string, string> = {
  PENDING: '·',
  READY: '·',
  EXECUTING: '▶',
  COMPLETED: '✓',
  FAILED: '✗',
  CANCELLED: '⊘',
  SKIPPED: '-',
  PAUSED: '‖',
};

interface TaskRow {
  state: string;
  /** When it entered the current state, for the elapsed column of running tasks. */
  since: string;
  reason?: string;
}

/** What `submit --wait` knows about a job: its state and each task's, folded from timeline events. */
export class JobProgress {
  jobState = 'PENDING';
  readonly #tasks = new Map<string, TaskRow>();

  constructor(
    readonly jobId: string,
    taskTypes: readonly string[],
  ) {
    for (const taskType of taskTypes) this.#tasks.set(taskType, { state: 'PENDING', since: '' });
  }

  apply(event: TimelineEventWire): void {
    if (event.task_type === undefined) {
      this.jobState = event.to;
      return;
    }
    this.#tasks.set(event.task_type, { state: event.to, since: event.at, ...(event.reason ? { reason: event.reason } : {}) });
  }

  /** One line per task under a job line, for a terminal that is redrawn in place. */
  render(now: number): string[] {
    const width = Math.max(0, ...[...this.#tasks.keys()].map((name) => name.length));
    const lines = [`job ${this.jobId} ${this.jobState}`];
    for (const [taskType, row] of this.#tasks) {
      const running = row.state === 'EXECUTING' && row.since !== '' ? ` ${((now - Date.parse(row.since)) / 1000).toFixed(1)}s` : '';
      const reason = row.reason && row.state !== 'EXECUTING' ? `  ${row.reason}` : '';
      lines.push(`  ${SYMBOLS[row.state] ?? '?'} ${taskType.padEnd(width)}  ${row.state}${running}${reason}`);
    }
    return lines;
  }
}

/** A transition as one plain line, for logs and pipes where redrawing makes no sense. */
export function transitionLine(event: TimelineEventWire): string {
  const subject = event.task_type === undefined ? 'job' : `task ${event.task_type}`;
  return `${event.at.slice(11, 23)} ${subject} ${event.from ?? '-'} -> ${event.to}${event.reason ? ` (${event.reason})` : ''}`;
}

/** Redraws a block of lines in place on an ANSI terminal. */
export class LiveBlock {
  #height = 0;

  constructor(private readonly write: (text: string) => void) {}

  draw(lines: readonly string[]): void {
    const clear = this.#height > 0 ? `\x1b[${this.#height}A\x1b[0J` : '';
    this.write(`${clear}${lines.join('\n')}`);
    this.#height = lines.length;
  }
}

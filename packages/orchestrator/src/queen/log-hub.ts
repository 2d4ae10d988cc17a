import type { JobStore, NewLogLine } from '../store/store.js';
import { type LogLine, TERMINAL_JOB_STATES, type TimelineEvent } from './service.js';

interface Follower {
  readonly taskType?: string;
  readonly onLine: (line: LogLine) => void;
  readonly end: () => void;
  /** Lines published while the backlog is being read; delivered after it, deduplicated by seq. */
  buffer?: LogLine[];
  lastSeq: number;
}

/**
 * Writes log lines in order (one chain, so a task's result is recorded after its last lines) and
 * fans new lines out to followers of the job.
 */
export class LogHub {
  private chain: Promise<unknown> = Promise.resolve();
  private readonly followers = new Map<string, Set<Follower>>();

  constructor(private readonly store: JobStore) {}

  append(lines: readonly NewLogLine[]): Promise<void> {
    const written = this.chain.then(async () => {
      const stored = await this.store.appendLogs(lines);
      for (const line of stored) this.publish(line);
    });
    this.chain = written.catch(() => undefined);
    return written;
  }

  /** Resolves once every line appended so far is stored. */
  async flush(): Promise<void> {
    await this.chain;
  }

  private publish(line: LogLine): void {
    for (const follower of this.followers.get(line.jobId) ?? []) {
      if (follower.buffer) follower.buffer.push(line);
      else deliver(follower, line);
    }
  }

  /** Ends the job's followers when it reaches a terminal state (after its remaining lines). */
  transition(event: TimelineEvent): void {
    if (event.taskType !== undefined || !(TERMINAL_JOB_STATES as readonly string[]).includes(event.to)) return;
    const followers = this.followers.get(event.jobId);
    if (!followers) return;
    void this.flush().then(() => {
      for (const follower of followers) follower.end();
    });
  }

  follow(
    jobId: string,
    options: { readonly taskType?: string; readonly afterSeq?: number },
    onLine: (line: LogLine) => void,
    onEnd: () => void,
    isOver: () => Promise<boolean>,
  ): () => void {
    let closed = false;
    const followers = this.followers.get(jobId) ?? new Set<Follower>();
    this.followers.set(jobId, followers);
    const close = () => {
      if (closed) return;
      closed = true;
      followers.delete(follower);
      if (followers.size === 0) this.followers.delete(jobId);
    };
    const follower: Follower = {
      ...(options.taskType === undefined ? {} : { taskType: options.taskType }),
      onLine: (line) => {
        if (!closed) onLine(line);
      },
      end: () => {
        if (closed) return;
        close();
        onEnd();
      },
      buffer: [],
      lastSeq: options.afterSeq ?? 0,
    };
    followers.add(follower);
    void (async () => {
      for (;;) {
        const page = await this.store.logs(jobId, {
          afterSeq: follower.lastSeq,
          limit: 1000,
          ...(options.taskType === undefined ? {} : { taskType: options.taskType }),
        });
        for (const line of page) deliver(follower, line);
        if (page.length < 1000) break;
      }
      const buffered = follower.buffer ?? [];
      follower.buffer = undefined;
      for (const line of buffered) deliver(follower, line);
      if (await isOver()) {
        await this.flush();
        follower.end();
      }
    })().catch(() => follower.end());
    return close;
  }

  close(): void {
    for (const followers of this.followers.values()) for (const follower of followers) follower.end();
  }
}

function deliver(follower: Follower, line: LogLine): void {
  if (line.seq <= follower.lastSeq) return;
  if (follower.taskType !== undefined && line.taskType !== follower.taskType) return;
  follower.lastSeq = line.seq;
  follower.onLine(line);
}

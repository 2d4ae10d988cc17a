import { TERMINAL_JOB_STATES } from '../domain/states.js';
import type { LogLine, TimelineEvent } from '../domain/types.js';
import type { JobStore, LogBatch, NewLogLine } from '../store/store.js';

interface Follower {
  readonly jobId: string;
  readonly taskType?: string;
  readonly onLine: (line: LogLine) => void;
  readonly end: () => void;
  readonly isOver: () => Promise<boolean>;
  /** The per-job cursor: the last line delivered. */
  lastSeq: number;
  reading: boolean;
  again: boolean;
  ending: boolean;
}

/**
 * Writes log lines in order (one chain, so a task's result is recorded after its last lines) and
 * serves followers of a job from the store by per-job cursor, woken by the change feed: lines
 * written by another queen reach them the same way as this queen's. One job's lines are numbered
 * in commit order (the store writes them under the job's row), so reading after the cursor never
 * skips one.
 */
export class LogHub {
  private chain: Promise<unknown> = Promise.resolve();
  private readonly followers = new Map<string, Set<Follower>>();

  constructor(private readonly store: JobStore) {}

  /** `batch`: a remote ant's log batch, written once whichever queen receives it. */
  append(lines: readonly NewLogLine[], batch?: LogBatch): Promise<void> {
    const written = this.chain.then(async () => {
      await this.store.appendLogs(lines, batch);
      for (const jobId of new Set(lines.map((l) => l.jobId))) this.changed(jobId);
    });
    this.chain = written.catch(() => undefined);
    return written;
  }

  /** Resolves once every line appended so far is stored. */
  async flush(): Promise<void> {
    await this.chain;
  }

  /** Something of the job changed (its logs, its state): its followers read on from their cursors. */
  changed(jobId: string): void {
    for (const follower of this.followers.get(jobId) ?? []) void this.read(follower);
  }

  /** Ends the job's followers when it reaches a terminal state (after its remaining lines). */
  transition(event: TimelineEvent): void {
    if (event.taskType !== undefined || !(TERMINAL_JOB_STATES as readonly string[]).includes(event.to)) return;
    const followers = this.followers.get(event.jobId);
    if (!followers) return;
    void this.flush().then(() => {
      for (const follower of followers) {
        follower.ending = true;
        void this.read(follower);
      }
    });
  }

  private async read(follower: Follower): Promise<void> {
    if (follower.reading) {
      follower.again = true;
      return;
    }
    follower.reading = true;
    try {
      do {
        follower.again = false;
        for (;;) {
          const page = await this.store.logs(follower.jobId, {
            afterSeq: follower.lastSeq,
            limit: 1000,
            ...(follower.taskType === undefined ? {} : { taskType: follower.taskType }),
          });
          for (const line of page) {
            follower.lastSeq = line.seq;
            follower.onLine(line);
          }
          if (page.length < 1000) break;
        }
      } while (follower.again);
      if (follower.ending || (await follower.isOver())) {
        await this.flush();
        const last = await this.store.logs(follower.jobId, {
          afterSeq: follower.lastSeq,
          ...(follower.taskType === undefined ? {} : { taskType: follower.taskType }),
        });
        for (const line of last) follower.onLine(line);
        follower.end();
      }
    } catch {
      follower.end();
    } finally {
      follower.reading = false;
    }
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
      jobId,
      ...(options.taskType === undefined ? {} : { taskType: options.taskType }),
      onLine: (line) => {
        if (!closed) onLine(line);
      },
      end: () => {
        if (closed) return;
        close();
        onEnd();
      },
      isOver,
      lastSeq: options.afterSeq ?? 0,
      reading: false,
      again: false,
      ending: false,
    };
    followers.add(follower);
    void this.read(follower);
    return close;
  }

  close(): void {
    for (const followers of this.followers.values()) for (const follower of followers) follower.end();
  }
}

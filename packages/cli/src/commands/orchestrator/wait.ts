import type { JobDetailWire, TimelineEventWire } from '@myrmex/orchestrator';
import type { QueenClient } from './client.js';
import { JobProgress, LiveBlock, transitionLine } from './progress.js';

const TERMINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

export interface WaitOptions {
  /** Where progress goes; nothing is shown when absent (--json). */
  readonly show?: (text: string) => void;
  /** Redraw a per-task block in place (a terminal) rather than print one line per transition. */
  readonly live: boolean;
}

/**
 * Follows a job's timeline until it ends and returns its final detail. The stream can end early when
 * the queen shuts down; the job is then still running and the error says so.
 */
export async function waitForJob(client: QueenClient, jobId: string, options: WaitOptions): Promise<JobDetailWire> {
  const job = await client.job(jobId);
  const definition = await client.definition(job.job_type);
  const version = definition.versions.find((entry) => entry.version === job.version) ?? definition.latest;
  const progress = new JobProgress(jobId, version.tasks);
  const block = options.show && options.live ? new LiveBlock(options.show) : undefined;
  const ticker = block ? setInterval(() => block.draw(progress.render(Date.now())), 1000) : undefined;
  let ended = false;
  try {
    block?.draw(progress.render(Date.now()));
    for await (const event of client.followEvents(jobId)) {
      if (event.event === 'transition') {
        const transition = JSON.parse(event.data) as TimelineEventWire;
        progress.apply(transition);
        if (block) block.draw(progress.render(Date.now()));
        else options.show?.(transitionLine(transition));
      } else if (event.event === 'end') {
        ended = true;
        break;
      }
    }
  } finally {
    if (ticker) clearInterval(ticker);
  }
  const final = await client.job(jobId);
  if (!ended && !TERMINAL.has(final.state)) {
    throw new Error(
      `the queen at ${client.server} closed the stream while job ${jobId} is ${final.state}: follow it again with \`myrmex status ${jobId}\``,
    );
  }
  return final;
}

import type { JobDetailWire, JobSummaryWire } from '@myrmex/orchestrator';

/** What one frame of `myrmex top` shows, read from the queen's API and its /metrics. */
export interface Snapshot {
  readonly at: Date;
  readonly server: string;
  readonly jobs: Readonly<Record<string, number>>;
  readonly queue: readonly { kind: string; priority: string; tag: string; count: number }[];
  readonly oldestWaitSeconds: number;
  readonly running: readonly { jobId: string; jobType: string; task: string; attempt: number; ant?: string; startedAt: string }[];
  readonly ants: readonly { id: string; running: number; capacity: number; lastSeenAt: string; tags: readonly string[] }[];
}

async function json<T>(url: string): Promise<T> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return (await response.json()) as T;
}

/** Reads one snapshot: job counts and the queue from /metrics, running tasks from the executing jobs, ants from /api/ants. */
export async function readSnapshot(server: string, maxRunningJobs = 20): Promise<Snapshot> {
  const [metricsText, executing, ants] = await Promise.all([
    fetch(`${server}/metrics`).then((r) => {
      if (!r.ok) throw new Error(`${server}/metrics answered ${r.status}`);
      return r.text();
    }),
    json<{ items: JobSummaryWire[] }>(`${server}/api/jobs/requests?state=EXECUTING&limit=${maxRunningJobs}`),
    json<{ items: { id: string; running: number; capacity: number; last_seen_at: string; tags: string[] }[] }>(`${server}/api/ants`),
  ]);
  // Loaded here, not at the top: importing the orchestrator costs every other `myrmex` command a second of start-up.
  const { parseExposition } = await import('@myrmex/orchestrator');
  const samples = parseExposition(metricsText);
  const jobs: Record<string, number> = {};
  for (const s of samples) if (s.name === 'myrmex_jobs') jobs[s.labels.state ?? '?'] = s.value;
  const queue = samples
    .filter((s) => s.name === 'myrmex_queue_depth' && s.value > 0)
    .map((s) => ({ kind: s.labels.kind ?? '', priority: s.labels.priority ?? '', tag: s.labels.tag ?? '', count: s.value }))
    .sort((a, b) => Number(b.priority) - Number(a.priority) || b.count - a.count);
  const oldestWaitSeconds = samples.find((s) => s.name === 'myrmex_queue_oldest_wait_seconds' && s.labels.kind === 'task')?.value ?? 0;
  const details = await Promise.all(
    executing.items.map((job) => json<JobDetailWire>(`${server}/api/jobs/requests/${encodeURIComponent(job.id)}`).catch(() => undefined)),
  );
  const running = details.flatMap((job) =>
    (job?.tasks ?? [])
      .filter((task) => task.state === 'EXECUTING')
      .map((task) => {
        const attempt = task.attempts.at(-1);
        return {
          jobId: job?.id ?? '',
          jobType: job?.job_type ?? '',
          task: task.task_type,
          attempt: attempt?.attempt ?? 1,
          ...(attempt?.ant_id ? { ant: attempt.ant_id } : {}),
          startedAt: attempt?.started_at ?? job?.started_at ?? new Date().toISOString(),
        };
      }),
  );
  return {
    at: new Date(),
    server,
    jobs,
    queue,
    oldestWaitSeconds,
    running,
    ants: ants.items.map((a) => ({ id: a.id, running: a.running, capacity: a.capacity, lastSeenAt: a.last_seen_at, tags: a.tags })),
  };
}

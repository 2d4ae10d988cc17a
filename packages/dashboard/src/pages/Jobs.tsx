import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useState } from 'react';
import { api, JOB_STATES } from '../api.js';
import { duration, ErrorNote, StateBadge, when } from '../components/StateBadge.js';
import { EmptyRow, Table } from '../components/Table.js';
import { href } from '../router.js';

const PAGE = 25;
const COLUMNS = ['Job', 'Type', 'State', 'Priority', 'Submitted', 'Took', 'Reason'];
const RANGES = [
  ['', 'Any time'],
  ['1h', 'Last hour'],
  ['24h', 'Last 24 hours'],
  ['7d', 'Last 7 days'],
] as const;
const RANGE_MS: Record<string, number> = { '1h': 3_600_000, '24h': 86_400_000, '7d': 604_800_000 };

/** Refreshes the list on every transition of any job (one shared event stream), at most every 300 ms. */
function useAllJobEvents(): void {
  const client = useQueryClient();
  useEffect(() => {
    const source = new EventSource('api/jobs/events');
    let timer: number | undefined;
    source.addEventListener('transition', () => {
      timer ??= window.setTimeout(() => {
        timer = undefined;
        void client.invalidateQueries({ queryKey: ['jobs'] });
      }, 300);
    });
    return () => {
      source.close();
      window.clearTimeout(timer);
    };
  }, [client]);
}

/** A waiting job's reason is the scheduler's (GET …/scheduling, a page's rows at most); others show their last transition's. */
function WaitReason({ id, state, fallback }: { id: string; state: string; fallback: string }) {
  const waiting = state === 'PENDING' || state === 'READY';
  const status = useQuery({
    queryKey: ['scheduling', id, state],
    queryFn: () => api.scheduling(id),
    enabled: waiting,
    refetchInterval: waiting ? 5000 : false,
    retry: false,
  });
  return <>{waiting && status.data?.waiting && status.data.reason ? status.data.reason : fallback}</>;
}

export function JobsPage() {
  const [state, setState] = useState('');
  const [jobType, setJobType] = useState('');
  const [range, setRange] = useState('');
  const [text, setText] = useState('');
  // The cursors of the pages walked so far, newest first: Older pushes a page's next_cursor, Newer pops.
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const cursor = cursors.at(-1);
  useAllJobEvents();
  const types = useQuery({ queryKey: ['definitions'], queryFn: api.definitions });
  const jobs = useQuery({
    queryKey: ['jobs', state, jobType, cursor],
    queryFn: () => api.jobs({ state, jobType, limit: PAGE, ...(cursor && { cursor }) }),
    placeholderData: keepPreviousData,
  });
  const shown = useMemo(() => {
    const since = range ? Date.now() - (RANGE_MS[range] ?? 0) : 0;
    const needle = text.trim().toLowerCase();
    return (jobs.data?.items ?? []).filter(
      (job) =>
        Date.parse(job.submitted_at) >= since &&
        (needle === '' || `${job.id} ${job.job_type} ${job.reason ?? ''} ${JSON.stringify(job.params)}`.toLowerCase().includes(needle)),
    );
  }, [jobs.data, range, text]);
  const next = jobs.data?.next_cursor;
  const page = cursors.length;
  const reset =
    <T,>(set: (v: T) => void) =>
    (v: T) => {
      set(v);
      setCursors([undefined]);
    };
  return (
    <section aria-labelledby="jobs-title">
      <h1 id="jobs-title">Jobs</h1>
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter jobs">
        <label>
          State
          <select value={state} onChange={(e) => reset(setState)(e.target.value)}>
            <option value="">Any</option>
            {JOB_STATES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          Type
          <select value={jobType} onChange={(e) => reset(setJobType)(e.target.value)}>
            <option value="">Any</option>
            {(types.data?.items ?? []).map((d) => (
              <option key={d.job_type}>{d.job_type}</option>
            ))}
          </select>
        </label>
        <label>
          Submitted
          <select value={range} onChange={(e) => setRange(e.target.value)}>
            {RANGES.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label className="grow">
          Search
          <input type="search" value={text} placeholder="id, type, reason or params" onChange={(e) => setText(e.target.value)} />
        </label>
      </form>
      <ErrorNote error={jobs.error} />
      <Table className="jobs" caption="Job requests, newest first" columns={COLUMNS}>
        {shown.map((job) => (
          <tr key={job.id} data-job-id={job.id}>
            <td>
              <a href={href('jobs', job.id)} className="mono">
                {job.id.slice(0, 8)}
              </a>
            </td>
            <td>{job.job_type}</td>
            <td>
              <StateBadge state={job.state} />
            </td>
            <td>{job.priority}</td>
            <td>{when(job.submitted_at)}</td>
            <td>{duration(job.started_at, job.ended_at)}</td>
            <td className="reason">
              <WaitReason id={job.id} state={job.state} fallback={job.reason ?? ''} />
            </td>
          </tr>
        ))}
        {shown.length === 0 && !jobs.isPending && <EmptyRow columns={COLUMNS.length}>No job matches these filters.</EmptyRow>}
      </Table>
      <nav className="pager" aria-label="Pages">
        <button type="button" disabled={page === 1} onClick={() => setCursors(cursors.slice(0, -1))}>
          ← Newer
        </button>
        <span aria-live="polite">
          Page {page}
          {jobs.data?.total === undefined ? '' : ` · ${jobs.data.total} jobs`}
        </span>
        <button type="button" disabled={next === undefined} onClick={() => setCursors([...cursors, next])}>
          Older →
        </button>
      </nav>
    </section>
  );
}
